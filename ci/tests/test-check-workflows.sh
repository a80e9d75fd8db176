#!/usr/bin/env bash
# make check-workflows: the workflows in .github/workflows/ pass both checks of
# ci/check-workflows.py, and each check fails, naming the problem, on a broken workflow.
set -uo pipefail
cd "$(dirname "$0")/../.."
chk="${PYTHON:-python3} ci/check-workflows.py"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
expect() { # expect <what> <exit status> <pattern in the output>
	if [ "$rc" -ne "$2" ] || ! grep -qE -- "$3" "$out"; then
		echo "check-workflows: FAILED: $1 (exit $rc, wanted $2 and /$3/)"
		sed 's/^/    /' "$out"
		fail=1
	else
		echo "  ok: $1"
	fi
}

$chk .github/workflows/*.yml >"$out" 2>&1
rc=$?
sed 's/^/  /' "$out"
expect "every workflow passes the schema and reference checks" 0 "0 check\(s\) failed"

$chk --only schema ci/tests/broken-schema.yml >"$out" 2>&1
rc=$?
expect "schema check rejects a step with 'artifacts:'" 1 "Additional property 'artifacts' is not allowed"
$chk --only refs ci/tests/broken-schema.yml >"$out" 2>&1
rc=$?
expect "reference check accepts what broken-schema.yml names (make check)" 0 "refs +ok"

$chk --only schema ci/tests/broken-refs.yml >"$out" 2>&1
rc=$?
expect "schema check accepts broken-refs.yml" 0 "schema +ok"
$chk --only refs ci/tests/broken-refs.yml >"$out" 2>&1
rc=$?
expect "reference check rejects a missing make target" 1 "make has no target 'no-such-target'"
expect "reference check rejects a missing script run by bash" 1 "no such script 'scripts/no-such-script.sh'"
expect "reference check rejects a missing script run by path" 1 "no such script 'ci/no-such-pipeline.sh'"
expect "reference check rejects a missing local action" 1 "no local action './no-such-action'"
if grep -q "'check'" "$out"; then
	echo "check-workflows: FAILED: 'make check' reported missing"
	fail=1
fi

[ "$fail" -eq 0 ] && echo "check-workflows: $(ls .github/workflows/*.yml | wc -l) workflows valid; both checks fail on broken workflows"
exit "$fail"
