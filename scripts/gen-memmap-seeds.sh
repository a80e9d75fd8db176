#!/usr/bin/env bash
# Regenerates the memmap_parse fuzz seeds: every sample map written by sh-memmap --emit in
# every binary table format the parsers read.
#
#   scripts/gen-memmap-seeds.sh CLI DATA_DIR CORPUS_DIR     (make memmap-seeds)
set -euo pipefail
cli=$1
data=$2
corpus=$3
mkdir -p "$corpus"
n=0
for csv in "$data"/*.csv; do
	name=$(basename "$csv" .csv)
	for f in cbtable cbimage mb1 mb2 mb2info e820 e820-24; do
		"$cli" "$csv" --emit "$f" -o "$corpus/$name.$f" >/dev/null
		n=$((n + 1))
	done
done
echo "gen-memmap-seeds: wrote $n seeds to $corpus"
