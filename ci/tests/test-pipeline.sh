#!/usr/bin/env bash
# make check-pipeline: ci/pipeline.py (ci/pr.sh, ci/nightly.sh) reports each step's real result.
# With a stand-in make (ci/tests/fake-make.sh) whose check passes, gate and coverage fail, and
# lint, boot and cross do not exist: every step still runs, the table says passed, FAILED
# (exit N), FAILED (no make target) and skipped truthfully, the Markdown summary reaches
# $GITHUB_STEP_SUMMARY, and the exit status is 1. An unknown step name is refused (exit 2).
set -uo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "  ok: $1"; }
bad() {
	echo "check-pipeline: FAILED: $1"
	sed 's/^/    /' "$tmp/out"
	fail=1
}

MAKE="$PWD/ci/tests/fake-make.sh" FAKE_MAKE_LOG="$tmp/calls" GITHUB_STEP_SUMMARY="$tmp/summary.md" \
	CI_SKIP="boot" CI_BASE=HEAD ${PYTHON:-python3} ci/pipeline.py pr >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok "exit status 1 when a step failed" || bad "exit status $rc, wanted 1"
row() { grep -E "^  $1 +$2" "$tmp/out" >/dev/null; }
row check passed && ok "check: passed" || bad "check row"
row lint 'FAILED \(no make target lint\)' && ok "lint: FAILED (no make target)" || bad "lint row"
row boot 'skipped \(CI_SKIP\)' && ok "boot: skipped, not passed" || bad "boot row"
row gate 'FAILED \(exit 3\)' && ok "gate: FAILED (exit 3)" || bad "gate row"
row coverage 'FAILED \(exit 4\)' && ok "coverage after a failed step still runs, FAILED (exit 4)" ||
	bad "coverage row"
row fuzz-smoke passed && ok "fuzz-smoke: passed" || bad "fuzz-smoke row"
grep -q '^gate BASE=HEAD GATE_SKIP_CHECK=1$' "$tmp/calls" && ok "the gate gets CI_BASE" ||
	bad "gate call: $(cat "$tmp/calls")"
grep -q 'ci pr: FAILED — 2 passed, 4 failed, 1 skipped' "$tmp/out" && ok "closing line counts" ||
	bad "closing line"
grep -q '| gate | merge gate for the change | \*\*FAILED (exit 3)\*\* |' "$tmp/summary.md" &&
	ok "Markdown table in GITHUB_STEP_SUMMARY" || bad "Markdown summary: $(cat "$tmp/summary.md")"

CI_SKIP="nonsense" ${PYTHON:-python3} ci/pipeline.py nightly >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "unknown step 'nonsense'" "$tmp/out" && ok "an unknown step is refused" ||
	bad "unknown step: exit $rc"
${PYTHON:-python3} ci/pipeline.py weekly >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "usage" "$tmp/out" && ok "an unknown pipeline is refused" ||
	bad "unknown pipeline: exit $rc"
[ "$fail" = 0 ] && echo "check-pipeline: ci/pipeline.py reports passed, failed and skipped steps truthfully"
exit "$fail"
