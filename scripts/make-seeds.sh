#!/usr/bin/env bash
# Regenerates the seed corpora from their text traces: every fuzz/seeds/<target>/<name>.trace
# becomes corpus/<target>/seed-<name> (fuzz input bytes, via sh-trace). Traces are the source
# of truth; edit them and rerun this script (make seeds).
#
#   SH_TRACE=build/sh-trace scripts/make-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sh_trace=${SH_TRACE:-build/sh-trace}
n=0
for dir in fuzz/seeds/*/; do
	target=$(basename "$dir")
	mkdir -p "corpus/$target"
	for t in "$dir"*.trace; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .trace)
		"$sh_trace" bytes "$t" "corpus/$target/seed-$name"
		# The trace must run clean on the current allocator.
		"$sh_trace" run -q "$t" >/dev/null
		n=$((n + 1))
	done
done
echo "make-seeds: $n seeds written to corpus/<target>/"
