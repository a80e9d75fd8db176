#!/usr/bin/env bash
# make corpus-prune: minimizes the fuzzing work corpus ($FUZZ_WORK/<target>/corpus, what CI
# caches between campaigns) to the inputs that keep its coverage, with libFuzzer's merge into
# an empty directory. corpus/ in git is not touched (make corpus-merge offers new inputs there).
set -uo pipefail
cd "$(dirname "$0")/.."

. scripts/fuzz-env.sh
FUZZ_TARGETS=${FUZZ_TARGETS:-}

bash scripts/install-deps.sh base fuzz || exit 1
mkdir -p "$O"
if ! $MAKE --no-print-directory O="$O" CORE_DIR="$CORE_DIR" LINEAR="$LINEAR" fuzz-build-libfuzzer \
	>"$O/corpus-prune-build.log" 2>&1; then
	tail -n 30 "$O/corpus-prune-build.log"
	exit 1
fi
[ -z "$FUZZ_TARGETS" ] && FUZZ_TARGETS=$(ls "$FUZZ_O/libfuzzer/bin/")
echo "corpus-prune summary ($FUZZ_WORK)"
printf '  %-20s %8s %8s\n' target before after
for t in $FUZZ_TARGETS; do
	work="$FUZZ_WORK/$t/corpus"
	if [ ! -d "$work" ] || [ -z "$(ls -A "$work")" ]; then
		printf '  %-20s %8s %8s   (no work corpus)\n' "$t" 0 0
		continue
	fi
	before=$(ls "$work" | wc -l)
	rm -rf "$work.pruned"
	mkdir -p "$work.pruned"
	# shellcheck disable=SC2046
	if ! "$FUZZ_O/libfuzzer/bin/$t" -merge=1 $(sed -n 's/^max_len *= */-max_len=/p' \
		"fuzz/$t.options" 2>/dev/null) "$work.pruned" "$work" >"$FUZZ_WORK/$t/prune.log" 2>&1; then
		tail -n 20 "$FUZZ_WORK/$t/prune.log"
		rm -rf "$work.pruned"
		exit 1
	fi
	rm -rf "$work"
	mv "$work.pruned" "$work"
	printf '  %-20s %8d %8d\n' "$t" "$before" "$(ls "$work" | wc -l)"
done
