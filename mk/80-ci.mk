# CI: the pipelines' own checks (ci/, .github/workflows/).
#
#   check-workflows   every .github/workflows/*.yml against the official workflow schema
#                     (@action-validator/cli from npm, installed on first use into
#                     $(O)/tools/) and against this repository (each make target, script and
#                     local action a `run:` or `uses:` names exists); then both checks must fail
#                     on the broken workflows in ci/tests/. About 5 s (plus the first install).

.PHONY: check-workflows deps-ci
deps-ci:
	$(Q)bash $(INSTALL_DEPS) ci

check-workflows: | deps-ci
	$(Q)bash ci/tests/test-check-workflows.sh

CHECK_STEPS += check-workflows
HELP += "  check-workflows     validate .github/workflows/ (schema, named targets and scripts)"

#   check-cflite      .clusterfuzzlite/build.sh in a simulated OSS-Fuzz builder for every
#                     engine/sanitizer combination this machine builds (libFuzzer with ASan,
#                     UBSan, MSan; AFL++ with ASan; the coverage build), each target then run
#                     500 executions on its seed zip (ci/cflite-sim.py). About 2 minutes.
#   corpus-prune      minimize the fuzzing work corpus in $(FUZZ_WORK) (nightly, before caching)
.PHONY: check-cflite corpus-prune
check-cflite: | deps-base deps-fuzz deps-ci
	$(Q)$(PYTHON) ci/cflite-sim.py $(O)/cflite

corpus-prune:
	$(Q)$(FUZZ_ENV) bash scripts/corpus-prune.sh

CHECK_STEPS += check-cflite
HELP += "  check-cflite        .clusterfuzzlite/build.sh in a simulated builder, each engine and sanitizer"
HELP += "  corpus-prune        minimize the fuzzing work corpus (build/fuzz-work/)"

#   gate BASE=<ref>   the merge verdict for the change from BASE to the working tree
#                     (scripts/gate.py): make check, every committed input replayed against
#                     BASE's and the new core, bounded fuzzing of the targets the change
#                     reaches, the bug-catalog subset, core/ coverage against BASE's; PASS/FAIL
#                     table in $(O)/gate/report.txt and summary.md. GATE_SKIP_CHECK=1 (make check
#                     already ran), GATE_FUZZ_SECONDS=120, GATE_COV_DROP=0.5.
.PHONY: gate
gate: | deps-base deps-fuzz
	$(Q)if [ -z "$(BASE)" ]; then echo "make gate: name the base of the change, e.g. make gate BASE=main" >&2; exit 2; fi
	$(Q)O=$(O) MAKE="$(MAKE)" $(PYTHON) scripts/gate.py --base "$(BASE)" --out $(O)/gate
HELP += "  gate BASE=<ref>     merge gate: PASS/FAIL for the change from BASE to the working tree"

#   check-gate        the gate's own test (ci/tests/test-gate.sh): in a scratch repository of
#                     this tree, no change PASSes and a catalog bug as the change FAILs with
#                     the failing inputs listed. Deterministic (no fuzzing); about 3 minutes on
#                     2 cores from a clean build, 1-2 minutes after.
.PHONY: check-gate
check-gate: | deps-base deps-fuzz
	$(Q)bash ci/tests/test-gate.sh $(O)/gate-test

CHECK_STEPS += check-gate
HELP += "  check-gate          the merge gate passes a clean change and fails a catalog bug"

#   check-pipeline    ci/pipeline.py's table against a stand-in make (ci/tests/test-pipeline.sh):
#                     passed, FAILED and skipped steps reported as they are. About 1 s.
.PHONY: check-pipeline
check-pipeline:
	$(Q)bash ci/tests/test-pipeline.sh

CHECK_STEPS += check-pipeline
HELP += "  check-pipeline      ci/pr.sh and ci/nightly.sh report each step's real result"
