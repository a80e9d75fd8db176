#!/usr/bin/env bash
# Runs every committed input through its fuzz target's replay build (sanitizers on):
# corpus/<target>/ and corpus/regressions/<target>-*. Prints a table and a total line
#   replay: N passed, N failed
# and exits non-zero if any input failed.
#
#   [REPLAY_SET=all|regressions] [REPLAY_REPORTS=3] scripts/replay.sh BINDIR TARGET...
#
# REPLAY_SET=regressions replays corpus/regressions/ alone. Each failure is printed whole, one
# after another, as the replay program writes it: "input: <path>", the failure report, then
# "FAIL <path>: <why>"; after REPLAY_REPORTS of them per target only the FAIL lines follow.
set -uo pipefail
bindir=$1
shift
set_=${REPLAY_SET:-all}
nreports=${REPLAY_REPORTS:-3}
case "$set_" in
all | regressions) ;;
*)
	echo "replay: REPLAY_SET must be all or regressions, not '$set_'" >&2
	exit 2
	;;
esac
total_pass=0
total_fail=0
rows=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	inputs=()
	[ "$set_" = all ] && [ -d "corpus/$t" ] && inputs+=("corpus/$t")
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
		# The first failures whole (input line, report, FAIL line), then the others' FAIL
		# lines; FAIL lines outside a block (an unreadable path) are printed as they come.
		awk -v max="$nreports" '
			/^input: / { inb = 1; n++; if (n <= max) print; next }
			inb && /^FAIL / { inb = 0; print; next }
			inb { if (n <= max) print; next }
			/^FAIL / { print }
			END { if (n > max) printf "  (%d failures; the first %d printed whole)\n", n, max }' "$log"
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
