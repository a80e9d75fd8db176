#!/usr/bin/env bash
# Regenerates the seed corpora from their text traces: every fuzz/seeds/<target>/<name>.trace
# becomes corpus/<target>/seed-<name> (fuzz input bytes, via sh-trace). Traces are the source
# of truth; edit them and rerun this script (make seeds).
#
# Traces named harden-*.trace use operations only the SH_HARDEN build has (overruns, writes
# into free memory): SH_TRACE_HARDEN converts and runs them.
#
#   SH_TRACE=build/sh-trace SH_TRACE_HARDEN=build/fuzz/core-harden/sh-trace scripts/make-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sh_trace_default=${SH_TRACE:-build/sh-trace}
sh_trace_harden=${SH_TRACE_HARDEN:-build/fuzz/core-harden/sh-trace}
n=0
for dir in fuzz/seeds/*/; do
	target=$(basename "$dir")
	mkdir -p "corpus/$target"
	for t in "$dir"*.trace; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .trace)
		sh_trace=$sh_trace_default
		case $name in harden-*) sh_trace=$sh_trace_harden ;; esac
		"$sh_trace" bytes "$t" "corpus/$target/seed-$name"
		# The trace must run clean on the current allocator.
		"$sh_trace" run -q "$t" >/dev/null
		n=$((n + 1))
	done
done
echo "make-seeds: $n seeds written to corpus/<target>/"
