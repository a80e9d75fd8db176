#!/usr/bin/env bash
# Runs every committed input through its fuzz target's replay build (sanitizers on):
# corpus/<target>/ and corpus/regressions/<target>-*. Prints a table and a total line
#   replay: N passed, N failed
# and exits non-zero if any input failed.
#
#   scripts/replay.sh BINDIR TARGET...
set -uo pipefail
bindir=$1
shift
total_pass=0
total_fail=0
rows=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	inputs=()
	[ -d "corpus/$t" ] && inputs+=("corpus/$t")
	for f in corpus/regressions/"$t"-*; do
		[ -f "$f" ] || continue
		case "$f" in *.trace | *.md | *.txt | *.svg) continue ;; esac
		inputs+=("$f")
	done
	if [ ${#inputs[@]} -eq 0 ]; then
		rows+=$(printf '  %-22s %8s %8s   %s' "$t" 0 0 "no inputs")$'\n'
		continue
	fi
	"$bindir/$t" -q "${inputs[@]}" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	pass=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	fail=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
	pass=${pass:-0}
	fail=${fail:-1}
	note=""
	if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then
		note="FAILED"
		grep -E '^FAIL ' "$log" | sed 's/^/    /'
		# The first failure's report (step, op, invariant, heap dump).
		sed -n '/==== slotheap differential failure ====/,/==== end of report ====/p' "$log" |
			head -n 80
		grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error:' "$log" | head -n 5
		# Targets without the differential engine say what broke on one line of their own.
		grep -E '^[a-z_]+: format ' "$log" | head -n 3
	fi
	# The fault-injection build (TINY=1) counts exhausted slots and memory at exit.
	grep -E '^[a-z_]+ \(tiny heaps\): ' "$log" | tail -n 1
	rows+=$(printf '  %-22s %8s %8s   %s' "$t" "$pass" "$fail" "$note")$'\n'
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
done
echo "replay summary"
printf '  %-22s %8s %8s\n' target passed failed
printf '%s' "$rows"
echo "replay: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
