#!/bin/sh
# Runs cmocka test programs one after the other, prints each program's cmocka summary (its
# whole output when something failed), then a table and a one-line total:
#   <label>: N passed, N failed
# Exits non-zero if any test failed or any program crashed.
#
#   tests/run_unit.sh LABEL PROGRAM...
label=$1
shift
export CMOCKA_MESSAGE_OUTPUT=stdout
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
total_pass=0
total_fail=0
table=""
for prog in "$@"; do
	name=$(basename "$prog")
	"$prog" >"$tmp" 2>&1
	rc=$?
	# cmocka writes its summary to stdout and failures to stderr; both land in one file, so
	# a summary line need not start a line.
	pass=$(grep -o '\[  PASSED  \] [0-9]* test' "$tmp" | tail -n 1 | tr -dc 0-9)
	fail=$(grep -o '\[  FAILED  \] [0-9]* test(s), listed below' "$tmp" | tail -n 1 | tr -dc 0-9)
	pass=${pass:-0}
	fail=${fail:-0}
	note=""
	if ! grep -q '\[==========\] [0-9]* test(s) run\.' "$tmp"; then
		# No summary: the program died in the middle of a test.
		fail=$((fail + 1))
		note="crashed (exit $rc)"
	elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		note="exit $rc"
	fi
	if [ "$fail" -ne 0 ]; then
		echo "---- $name: full output"
		cat "$tmp"
		echo "---- end of $name"
	else
		echo "$name:"
		grep -E '^\[(==========|  PASSED  |  FAILED  |  SKIPPED )\]' "$tmp" | grep -v 'Running'
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	table="$table$(printf '  %-24s %7s %7s  %s' "$name" "$pass" "$fail" "$note" | sed 's/ *$//')
"
done
echo
echo "$label summary"
printf '  %-24s %7s %7s\n' program passed failed
printf '%s' "$table"
echo "$label: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
