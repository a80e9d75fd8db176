# Static analysis of core/ and ref/ (the allocator and the model), every analyser clean:
#
#   make lint     clang-tidy (.clang-tidy: bugprone-*, cert-*, clang-analyzer-*, disabled
#                 checks listed with their reasons), cppcheck (--enable=all, inconclusive too;
#                 .cppcheck-suppressions and inline suppressions with reasons), scan-build (the
#                 clang static analyzer) over the default and SH_LINEAR builds, 64- and 32-bit
#                 for cppcheck. Prints a line per tool and a summary; fails on any finding.
#                 About 3 minutes on 2 shared cores. Not in make check (CI runs it from ci/pr.sh).

LINT_SRCS := $(CORE_SRCS) $(REF_SRCS)
LINT_DIR := $(O)/lint
CLANG_TIDY ?= $(shell command -v clang-tidy || command -v clang-tidy-14)
CPPCHECK ?= cppcheck
SCAN_BUILD ?= $(shell command -v scan-build || command -v scan-build-14)
LINT_CFLAGS := -std=c11 -Icore -Iref
# The harden build with its ASan hooks compiled in (core/harden.h, harden.c).
LINT_HARDEN := -DSH_HARDEN=1 -DSH_ASAN=1

.PHONY: lint lint-tidy lint-cppcheck lint-scan-build deps-lint
deps-lint:
	@bash $(INSTALL_DEPS) base lint

lint-tidy: | deps-lint
	@mkdir -p $(LINT_DIR)
	@echo "lint: clang-tidy over $(words $(LINT_SRCS)) files (default, SH_LINEAR, SH_HARDEN)"
	$(Q)$(CLANG_TIDY) --quiet $(LINT_SRCS) -- $(LINT_CFLAGS) >$(LINT_DIR)/tidy.log 2>&1 \
		&& $(CLANG_TIDY) --quiet $(CORE_SRCS) -- $(LINT_CFLAGS) -DSH_LINEAR=1 \
		>>$(LINT_DIR)/tidy.log 2>&1 \
		&& $(CLANG_TIDY) --quiet $(LINT_SRCS) -- $(LINT_CFLAGS) $(LINT_HARDEN) \
		>>$(LINT_DIR)/tidy.log 2>&1 \
		|| { grep -E 'warning:|error:' $(LINT_DIR)/tidy.log; \
		     echo "lint: clang-tidy found the above (log $(LINT_DIR)/tidy.log)"; exit 1; }
	@echo "lint: clang-tidy clean"

lint-cppcheck: | deps-lint
	@mkdir -p $(LINT_DIR)
	@echo "lint: cppcheck --enable=all over core/ and ref/ (64- and 32-bit, default, SH_LINEAR, SH_HARDEN)"
	$(Q)for cfg in "--platform=unix64" "--platform=unix32" "--platform=unix64 -DSH_LINEAR=1" \
		"--platform=unix64 $(LINT_HARDEN)"; do \
		$(CPPCHECK) -q --enable=all --inconclusive --std=c11 --inline-suppr \
			--suppressions-list=.cppcheck-suppressions --error-exitcode=1 $$cfg \
			-Icore -Iref $(LINT_SRCS) || exit 1; \
	done >$(LINT_DIR)/cppcheck.log 2>&1 \
		|| { cat $(LINT_DIR)/cppcheck.log; echo "lint: cppcheck found the above"; exit 1; }
	@echo "lint: cppcheck clean"

lint-scan-build: | deps-lint
	@rm -rf $(LINT_DIR)/scan && mkdir -p $(LINT_DIR)/scan/obj
	@echo "lint: scan-build over core/ and ref/ (default, SH_LINEAR, SH_HARDEN)"
	$(Q)cd $(LINT_DIR)/scan/obj && for def in "" "-DSH_LINEAR=1" "$(LINT_HARDEN)"; do \
		$(SCAN_BUILD) --status-bugs -o $(abspath $(LINT_DIR)/scan) $(CLANG) $(WARN) \
			-std=c11 -I$(abspath core) -I$(abspath ref) $$def -c $(abspath $(LINT_SRCS)) \
			|| exit 1; \
	done >$(abspath $(LINT_DIR))/scan.log 2>&1 \
		|| { grep -E 'warning:|error:|bugs found' $(LINT_DIR)/scan.log; \
		     echo "lint: scan-build found the above (reports in $(LINT_DIR)/scan)"; exit 1; }
	@echo "lint: scan-build clean"

lint: lint-tidy lint-cppcheck lint-scan-build
	@echo "lint: summary"
	@printf '  %-12s clean\n' clang-tidy cppcheck scan-build
HELP += "  lint                clang-tidy, cppcheck and scan-build over core/ and ref/, all clean"
