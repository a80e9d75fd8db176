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
