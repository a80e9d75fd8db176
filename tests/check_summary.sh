#!/usr/bin/env bash
# Tests make check's own summary (scripts/check.sh through the Makefile's check target): it
# runs make check with CHECK_STEPS set to probe steps (check-probe-NAME, which fail when NAME
# is in CHECK_PROBE_FAIL) and checks the exit status, each step's reported result and the
# list of failed steps, with and without -k. Prints "check-make-summary: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0
fail=0

# run NAME EXPECTED_STATUS "MAKE ARGS" then pairs of STEP RESULT, then optionally
# -- and the summary's last line.
run() {
	local name=$1 want=$2 args=$3 rc ok=1
	shift 3
	MAKEFLAGS= eval "$MAKE --no-print-directory $args" >"$out" 2>&1
	rc=$?
	if { [ "$want" = 0 ] && [ $rc -ne 0 ]; } || { [ "$want" != 0 ] && [ $rc -eq 0 ]; }; then
		echo "  $name: exit status $rc, expected $([ "$want" = 0 ] && echo 0 || echo non-zero)"
		ok=0
	fi
	while [ $# -ge 2 ] && [ "$1" != -- ]; do
		if ! grep -qE "^  check-probe-$1 +$2( |\$)" "$out"; then
			echo "  $name: summary does not report check-probe-$1 as '$2'"
			ok=0
		fi
		shift 2
	done
	local last
	last=$(grep '^make check: ' "$out" | tail -n 1)
	if [ "${1:-}" = -- ] && [ "$last" != "$2" ]; then
		echo "  $name: last summary line '$last', expected '$2'"
		ok=0
	fi
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		sed 's/^/    | /' "$out"
	fi
}

steps='CHECK_STEPS=check-probe-a check-probe-b check-probe-c check-probe-d'
run "all pass" 0 "check '$steps'" a passed b passed c passed d passed \
	-- "make check: 4 of 4 steps passed"
run "one failure stops the run" 1 "check '$steps' CHECK_PROBE_FAIL=b" \
	a passed b FAILED c "not run" d "not run" \
	-- "make check: 1 passed, 1 FAILED, 2 not run; failed: check-probe-b"
run "-k runs every step" 1 "-k check '$steps' CHECK_PROBE_FAIL='b d'" \
	a passed b FAILED c passed d FAILED \
	-- "make check: 2 passed, 2 FAILED, 0 not run; failed: check-probe-b check-probe-d"
run "-k with -j2 and -s" 1 "-k -j2 -s check '$steps' CHECK_PROBE_FAIL=a" \
	a FAILED b passed c passed d passed \
	-- "make check: 3 passed, 1 FAILED, 0 not run; failed: check-probe-a"
run "first step fails" 1 "check '$steps' CHECK_PROBE_FAIL=a" \
	a FAILED b "not run" c "not run" d "not run"
echo "check-make-summary: $pass passed, $fail failed"
[ $fail -eq 0 ]
