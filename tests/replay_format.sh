#!/usr/bin/env bash
# Tests the replay driver's failure output (fuzz/replay_main.c) with a stand-in target
# (tests/replay_probe.c): each failure is one block, "input: <path>", everything the target
# printed for that input and nothing else, "FAIL <path>: <why>"; blocks follow one another in
# input order; passing inputs print nothing; no shell notice ("Aborted") anywhere; -n names
# each input before it runs. Then scripts/replay.sh over the same inputs: the first
# REPLAY_REPORTS failures whole, the rest as FAIL lines, and REPLAY_SET=regressions.
# Prints "replay-format: N passed, N failed".
#
#   tests/replay_format.sh PROBE_BINARY WORK_DIR
set -uo pipefail
probe=$1
work=$2
rm -rf "$work"
mkdir -p "$work/in"
pass=0
fail=0
check() { # description, then a command that succeeds when the check holds
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "replay-format: FAILED: $what"
	fi
}
printf 'ok one' >"$work/in/1-ok"
printf 'abort first' >"$work/in/2-abort"
printf 'ok two' >"$work/in/3-ok"
printf 'exit' >"$work/in/4-exit"
printf 'abort second' >"$work/in/5-abort"
printf 'hang' >"$work/in/6-hang"
"$probe" -q -t 1 "$work/in" >"$work/out" 2>&1
rc=$?
o="$work/out"
i=$work/in
check "exit status 1 with failures" [ $rc -eq 1 ]
check "summary line" [ "$(tail -n 1 "$o")" = "replay_probe: 2 passed, 4 failed" ]
expected="input: $i/2-abort
probe report begins: abort first
probe stdout: in the middle of the report
probe report line 2
probe report ends
FAIL $i/2-abort: signal 6
input: $i/4-exit
probe exits with status 7
FAIL $i/4-exit: exit status 7
input: $i/5-abort
probe report begins: abort second
probe stdout: in the middle of the report
probe report line 2
probe report ends
FAIL $i/5-abort: signal 6
input: $i/6-hang
FAIL $i/6-hang: timed out after 1 s"
check "blocks whole, in order, nothing from passing inputs" \
	[ "$(grep -v '^replay_probe: ' "$o")" = "$expected" ]
check "no shell notice" bash -c "! grep -qiE 'Aborted|core dumped|line [0-9]+:' '$o'"
if [ $fail -gt 0 ]; then
	echo "replay-format: output was:"
	sed 's/^/    | /' "$o"
fi

# -n (in-process): names the input first; a single input's block is what .report files hold.
"$probe" -n "$i/1-ok" "$i/3-ok" >"$work/out-n" 2>&1
check "-n names each input" [ "$(grep -c '^input: ' "$work/out-n")" -eq 2 ]
"$probe" -q "$i/5-abort" 2>&1 | grep -vE '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' \
	>"$work/report"
check "a .report begins with its input line" [ "$(head -n 1 "$work/report")" = "input: $i/5-abort" ]
check "a .report ends with its FAIL line" \
	[ "$(tail -n 1 "$work/report")" = "FAIL $i/5-abort: signal 6" ]

# scripts/replay.sh over the same inputs as target "probe" (in a scratch tree with its own
# corpus/): the first REPLAY_REPORTS blocks whole, then only FAIL lines, and the totals.
tree=$work/tree
mkdir -p "$tree/corpus/probe" "$tree/corpus/regressions" "$tree/bin"
cp "$i"/1-ok "$i"/2-abort "$i"/3-ok "$tree/corpus/probe/"
cp "$i"/5-abort "$tree/corpus/regressions/probe-5-abort"
cp "$i"/4-exit "$tree/corpus/regressions/probe-4-exit"
ln -sf "$(cd "$(dirname "$probe")" && pwd)/$(basename "$probe")" "$tree/bin/probe"
script=$(cd "$(dirname "$0")/.." && pwd)/scripts/replay.sh
(cd "$tree" && REPLAY_REPORTS=2 bash "$script" bin probe) >"$work/out-sh" 2>&1
rc=$?
check "replay.sh exit status 1" [ $rc -eq 1 ]
expected_sh="input: corpus/probe/2-abort
probe report begins: abort first
probe stdout: in the middle of the report
probe report line 2
probe report ends
FAIL corpus/probe/2-abort: signal 6
input: corpus/regressions/probe-4-exit
probe exits with status 7
FAIL corpus/regressions/probe-4-exit: exit status 7
FAIL corpus/regressions/probe-5-abort: signal 6
  (3 failures; the first 2 printed whole)"
check "replay.sh prints the first blocks whole, then FAIL lines" \
	[ "$(sed -n '1,/^replay summary$/p' "$work/out-sh" | sed '$d')" = "$expected_sh" ]
check "replay.sh totals" grep -qx 'replay: 2 passed, 3 failed' "$work/out-sh"
(cd "$tree" && REPLAY_SET=regressions bash "$script" bin probe) >"$work/out-reg" 2>&1
check "REPLAY_SET=regressions replays only corpus/regressions/" \
	grep -qx 'replay: 0 passed, 2 failed' "$work/out-reg"
if [ $fail -gt 0 ]; then
	for f in out-sh out-reg; do
		echo "replay-format: $f was:"
		sed 's/^/    | /' "$work/$f"
	done
fi
echo "replay-format: $pass passed, $fail failed"
[ $fail -eq 0 ]
