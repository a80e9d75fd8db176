#!/usr/bin/env bash
# Pull-request pipeline: everything a change must pass before it merges, in the order
#   check       make check (every deterministic test)
#   lint        make lint
#   boot        make boot (the allocator inside a real firmware payload)
#   cross       make cross (core/ for other architectures)
#   gate        make gate BASE=$CI_BASE (the merge verdict for the change; see docs/CI.md)
#   coverage    make coverage (core/ line and branch coverage against the thresholds)
#   fuzz-smoke  make fuzz FUZZ_SECONDS=$CI_FUZZ_SECONDS (60 by default)
# Prints progress and a summary table (also Markdown, to $GITHUB_STEP_SUMMARY when set); exits
# 1 if any step failed. CI_SKIP="lint boot" marks steps skipped; ci/pipeline.py documents the
# other variables. ci/pr.sh --list prints the steps and their commands.
set -euo pipefail
cd "$(dirname "$0")/.."
export MAKEFLAGS="${MAKEFLAGS:-} --no-print-directory"
exec "${PYTHON:-python3}" ci/pipeline.py pr "$@"
