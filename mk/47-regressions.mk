# The regression corpus against the bug catalog (scripts/regressions.py).
#
#   check-regressions   for each bug of fuzz/bugs/check-subset.txt (BUGS="07 12" or BUGS=all
#                       for others): replaying corpus/regressions/ alone against core/ with
#                       the bug's patch applied must fail, on the bug's own entry; a bug with
#                       no entry must be listed in corpus/regressions/unfound.txt. The same
#                       replay against core/ itself must pass first. Deterministic; rebuilds
#                       the patched file's replay objects per bug: 96 s for the subset and
#                       261 s for BUGS=all on 2 shared cores.
#   regressions         for each catalog bug without an entry: fuzz the patched copy from the
#                       committed corpus (libFuzzer, REGRESSIONS_SECONDS=60 per target at
#                       most) and make triage the first finding into
#                       corpus/regressions/<target>-<bug>; a bug nothing finds goes to
#                       unfound.txt. Long and CPU-heavy: run it under nice, then commit.

REGRESSIONS_SECONDS ?= 60

.PHONY: check-regressions regressions
check-regressions: | deps-base
	@O=$(O) MAKE="$(MAKE)" MAKEFLAGS= $(PYTHON) scripts/regressions.py check \
		$(if $(BUGS),--bugs "$(BUGS)",--subset fuzz/bugs/check-subset.txt)

regressions: | deps-base deps-fuzz
	@O=$(O) MAKE="$(MAKE)" MAKEFLAGS= $(PYTHON) scripts/regressions.py collect \
		--seconds $(REGRESSIONS_SECONDS) $(if $(BUGS),--bugs "$(BUGS)")

CHECK_STEPS += check-regressions
HELP += "  check-regressions   corpus/regressions/ alone catches each check-subset catalog bug (BUGS=all)"
HELP += "  regressions         fuzz each catalog bug without a regression input and triage the finding"
