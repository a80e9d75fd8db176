# The figures make fuzz reports (scripts/fuzz.py), checked for every engine and job count.
#
#   check-fuzz-figures   tests/fuzz_figures.py: 8-second campaigns of memmap_parse with
#                        libFuzzer, libFuzzer JOBS=2 and AFL++ (fixed seed); the table agrees
#                        with the last progress line, with itself and with the test's own
#                        count of the corpus and replay of its coverage. About a minute, plus
#                        the first build of the target's libFuzzer, AFL++ and coverage kinds.

.PHONY: check-fuzz-figures
check-fuzz-figures: | deps-fuzz
	@MAKE="$(MAKE)" O=$(O) LLVM_PROFDATA="$(LLVM_PROFDATA)" LLVM_COV="$(LLVM_COV)" \
		$(PYTHON) tests/fuzz_figures.py --work $(O)/fuzz-figures

CHECK_STEPS += check-fuzz-figures
HELP += "  check-fuzz-figures  make fuzz's figures agree across libFuzzer, JOBS=2 and AFL++"
