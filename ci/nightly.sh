#!/usr/bin/env bash
# Nightly pipeline: the long campaigns and measurements that do not fit a pull request.
#   fuzz, fuzz-linear  make fuzz (NIGHTLY_FUZZ_SECONDS=3600 each, JOBS=2), default and SH_LINEAR
#                      builds, continuing from the work corpus in build/fuzz-work/
#   corpus-prune[-linear]  make corpus-prune [LINEAR=1]: each work corpus minimized (what CI
#                      caches)
#   corpus-merge[-linear]  make corpus-merge [LINEAR=1]: inputs with new coverage copied into
#                      corpus/ for review
#   bugs               make bugs: the whole bug catalog
#   regressions-all    make check-regressions BUGS=all: corpus/regressions/ alone catches every
#                      catalog bug (make check runs the check-subset only)
#   mutation           make mutation MUTATION_SAMPLE=400
#   coverage           make coverage COVERAGE_WORK=1 (the work corpus counts too)
#   exhaustive         make exhaustive EXHAUSTIVE_SECONDS=1800
# Prints progress and a summary table (also Markdown, to $GITHUB_STEP_SUMMARY when set); exits
# 1 if any step failed. CI_SKIP / CI_ONLY select steps; ci/pipeline.py documents the variables.
set -euo pipefail
cd "$(dirname "$0")/.."
export MAKEFLAGS="${MAKEFLAGS:-} --no-print-directory"
exec "${PYTHON:-python3}" ci/pipeline.py nightly "$@"
