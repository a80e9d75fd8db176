#!/usr/bin/env bash
# make check: runs each step of CHECK_STEPS in its own sub-make, in order, and ends with a
# summary of what each step really did: passed, FAILED or not run.
#
#   MAKE=make KEEP_GOING=0|1 bash scripts/check.sh STEP...
#
# Without KEEP_GOING (make check) the first failing step ends the run; the steps after it are
# "not run". With KEEP_GOING=1 (make -k check) every step runs. Exits 1 if any step failed,
# and the summary's last line names the failed steps.
set -uo pipefail
MAKE=${MAKE:-make}
KEEP_GOING=${KEEP_GOING:-0}
steps=("$@")
n=${#steps[@]}
declare -A result=() secs=()
failed=()
stop=0
i=0
for s in "${steps[@]}"; do
	i=$((i + 1))
	if [ $stop = 1 ]; then
		result[$s]="not run"
		continue
	fi
	echo "make check: [$i/$n] $s"
	t0=$(date +%s)
	$MAKE --no-print-directory "$s"
	rc=$?
	secs[$s]=$(($(date +%s) - t0))
	if [ $rc -eq 0 ]; then
		result[$s]=passed
	else
		result[$s]=FAILED
		failed+=("$s")
		[ "$KEEP_GOING" = 1 ] || stop=1
	fi
done
npass=0
nrun=0
echo
echo "make check: summary"
printf '  %-30s %-8s %8s\n' step result seconds
for s in "${steps[@]}"; do
	printf '  %-30s %-8s %8s\n' "$s" "${result[$s]}" "${secs[$s]:--}"
	case "${result[$s]}" in passed) npass=$((npass + 1)) ;; "not run") nrun=$((nrun + 1)) ;; esac
done
if [ ${#failed[@]} -eq 0 ]; then
	echo "make check: $npass of $n steps passed"
	exit 0
fi
echo "make check: $npass passed, ${#failed[@]} FAILED, $nrun not run; failed: ${failed[*]}"
exit 1
