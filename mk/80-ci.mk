# CI: the pipelines' own checks (ci/, .github/workflows/).
#
#   check-workflows   every .github/workflows/*.yml against the official workflow schema
#                     (@action-validator/cli from npm, installed on first use into
#                     $(O)/tools/) and against this repository (each make target, script and
#                     local action a `run:` or `uses:` names exists); then both checks must fail
#                     on the broken workflows in ci/tests/. About 5 s (plus the first install).

.PHONY: check-workflows deps-ci
deps-ci:
	@bash $(INSTALL_DEPS) ci

check-workflows: | deps-ci
	@bash ci/tests/test-check-workflows.sh

CHECK_STEPS += check-workflows
HELP += "  check-workflows     validate .github/workflows/ (schema, named targets and scripts)"

#   check-cflite      .clusterfuzzlite/build.sh in a simulated OSS-Fuzz builder for every
#                     engine/sanitizer combination this machine builds (libFuzzer with ASan,
#                     UBSan, MSan; AFL++ with ASan; the coverage build), each target then run
#                     500 executions on its seed zip (ci/cflite-sim.py). About 2 minutes.
#   corpus-prune      minimize the fuzzing work corpus in $(FUZZ_WORK) (nightly, before caching)
.PHONY: check-cflite corpus-prune
check-cflite: | deps-base deps-fuzz deps-ci
	@$(PYTHON) ci/cflite-sim.py $(O)/cflite

corpus-prune:
	@$(FUZZ_ENV) bash scripts/corpus-prune.sh

CHECK_STEPS += check-cflite
HELP += "  check-cflite        .clusterfuzzlite/build.sh in a simulated builder, each engine and sanitizer"
HELP += "  corpus-prune        minimize the fuzzing work corpus (build/fuzz-work/)"
