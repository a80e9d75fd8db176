#!/usr/bin/env bash
# make corpus-merge: adds to corpus/<target>/ the inputs found by make fuzz (in the work
# directory) that reach coverage the committed corpus does not, using libFuzzer's merge.
# By default only new edges count (MERGE_FLAGS=-use_counters=0), which keeps the committed
# corpus small; MERGE_FLAGS= also keeps inputs that only reach new hit counts.
# Nothing is committed: review with git status corpus/ and commit what you keep.
set -uo pipefail
cd "$(dirname "$0")/.."

. scripts/fuzz-env.sh
FUZZ_TARGETS=${FUZZ_TARGETS:-}
MERGE_FLAGS=${MERGE_FLAGS--use_counters=0}

bash scripts/install-deps.sh base fuzz || exit 1
if ! $MAKE --no-print-directory O="$O" CORE_DIR="$CORE_DIR" LINEAR="$LINEAR" fuzz-build-libfuzzer \
	>"$O/corpus-merge-build.log" 2>&1; then
	tail -n 30 "$O/corpus-merge-build.log"
	exit 1
fi
[ -z "$FUZZ_TARGETS" ] && FUZZ_TARGETS=$(ls "$FUZZ_O/libfuzzer/bin/")
echo "corpus-merge summary"
printf '  %-20s %8s %8s %8s\n' target before found added
for t in $FUZZ_TARGETS; do
	srcs=()
	[ -d "$FUZZ_WORK/$t/corpus" ] && srcs+=("$FUZZ_WORK/$t/corpus")
	for q in "$FUZZ_WORK/$t"/afl/*/queue; do
		[ -d "$q" ] && srcs+=("$q")
	done
	mkdir -p "corpus/$t"
	before=$(ls "corpus/$t" | wc -l)
	found=0
	for s in "${srcs[@]}"; do
		found=$((found + $(ls "$s" | wc -l)))
	done
	if [ ${#srcs[@]} -gt 0 ]; then
		# shellcheck disable=SC2086
		"$FUZZ_O/libfuzzer/bin/$t" -merge=1 $MERGE_FLAGS $(sed -n 's/^max_len *= */-max_len=/p' \
			"fuzz/$t.options" 2>/dev/null) "corpus/$t" "${srcs[@]}" \
			>"$O/corpus-merge-$t.log" 2>&1 || {
			tail -n 20 "$O/corpus-merge-$t.log"
			exit 1
		}
	fi
	after=$(ls "corpus/$t" | wc -l)
	printf '  %-20s %8d %8d %8d\n' "$t" "$before" "$found" $((after - before))
done
echo "corpus-merge: new files are in corpus/<target>/ (git status corpus/); commit the ones to keep"
