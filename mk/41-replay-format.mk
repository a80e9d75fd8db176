# The replay driver's failure output (fuzz/replay_main.c), tested with a stand-in target.
#
#   check-replay-format   tests/replay_format.sh: failures printed whole, one after another,
#                         each beginning with "input: <path>"; about 2 seconds

$(O)/replay-probe/replay_probe: tests/replay_probe.c fuzz/replay_main.c | deps-base
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(WARN) -D_POSIX_C_SOURCE=200809L -O1 -g $(CFLAGS) $^ -o $@ $(LDFLAGS)

.PHONY: check-replay-format
check-replay-format: $(O)/replay-probe/replay_probe
	@bash tests/replay_format.sh $< $(O)/replay-probe/work

CHECK_STEPS += check-replay-format
HELP += "  check-replay-format the replay driver prints each failure whole, input path first"
