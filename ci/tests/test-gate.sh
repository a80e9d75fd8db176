#!/usr/bin/env bash
# make check-gate: the merge gate's verdicts. In a scratch repository holding this working tree
# as its one commit, the gate must PASS when nothing changed, and FAIL when the change is a
# bug from the catalog (the first of fuzz/bugs/check-subset.txt that applies) with the
# inputs that now fail listed. make check already runs, so the gate's runs skip it
# (GATE_SKIP_CHECK=1); replay, coverage and a short fuzz run are what is judged.
#
#   ci/tests/test-gate.sh WORKDIR
set -uo pipefail
cd "$(dirname "$0")/../.."
here=$PWD
work=$(realpath -m "${1:?usage: test-gate.sh WORKDIR}")
repo=$work/repo
fail=0

# Bad input: no BASE, or a BASE that is no commit, is refused with a clear message.
out=$(make --no-print-directory gate BASE= 2>&1)
rc=$?
if [ "$rc" != 0 ] && echo "$out" | grep -q "name the base of the change"; then
	echo "  ok: make gate without BASE is refused"
else
	echo "check-gate: FAILED: make gate without BASE (exit $rc): $out"
	fail=1
fi
out=$(${PYTHON:-python3} scripts/gate.py --base no-such-ref-for-the-gate --out "$work/bad" 2>&1)
rc=$?
if [ "$rc" = 2 ] && echo "$out" | grep -q "'no-such-ref-for-the-gate' is not a commit"; then
	echo "  ok: an unknown BASE is refused (exit 2)"
else
	echo "check-gate: FAILED: unknown BASE (exit $rc): $out"
	fail=1
fi

# The scratch repository: this tree's tracked and untracked files (not build/), one commit.
# Its build directory is kept between runs: BASE's objects rebuild only when sources change.
mkdir -p "$repo"
find "$repo" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
git ls-files -z -c -o --exclude-standard | xargs -0 cp --parents -t "$repo" 2>/dev/null
(cd "$repo" && git init -q && git add -A && git -c user.name=gate-test -c user.email=gate@test \
	commit -q -m base) || {
	echo "check-gate: could not make the scratch repository in $repo"
	exit 1
}

gate() { # gate LABEL: runs make gate BASE=HEAD in the scratch repository
	(cd "$repo" && GATE_SKIP_CHECK=1 GATE_FUZZ_SECONDS=${GATE_TEST_FUZZ:-0} \
		make --no-print-directory gate BASE=HEAD) >"$work/$1.log" 2>&1
	echo $?
}

rc=$(gate clean)
if [ "$rc" = 0 ] && grep -q '^gate: PASS$' "$work/clean.log" &&
	grep -qE '^  replay +PASS .*give the same result' "$work/clean.log"; then
	echo "  ok: the unchanged tree passes the gate"
else
	echo "check-gate: FAILED: the unchanged tree did not pass (exit $rc, $work/clean.log)"
	tail -n 40 "$work/clean.log" | sed 's/^/    /'
	fail=1
fi

bug=""
for n in $(sed 's/#.*//' fuzz/bugs/check-subset.txt); do
	p=$(ls fuzz/bugs/"$n"-*.patch 2>/dev/null | head -n 1)
	[ -n "$p" ] || continue
	if (cd "$repo" && patch -p1 -s -F0 --no-backup-if-mismatch) <"$p" >/dev/null 2>&1; then
		bug=$p
		break
	fi
done
if [ -z "$bug" ]; then
	echo "check-gate: FAILED: no patch of fuzz/bugs/check-subset.txt applies"
	exit 1
fi
rc=$(gate broken)
if [ "$rc" != 0 ] && grep -q "^gate: FAIL$" "$work/broken.log" &&
	grep -qE '^  replay +FAIL +.*inputs fail with the new core' "$work/broken.log" &&
	grep -q 'passes with BASE.s core, FAILS with the new core' "$work/broken.log" &&
	[ -s "$repo/build/gate/summary.md" ] && grep -q 'Merge gate: \*\*FAIL\*\*' "$repo/build/gate/summary.md"; then
	echo "  ok: $(basename "$bug") as the change fails the gate: $(grep -E '^  replay +FAIL' "$work/broken.log" | sed 's/  */ /g')"
else
	echo "check-gate: FAILED: $(basename "$bug") as the change did not fail the gate as expected (exit $rc, $work/broken.log)"
	tail -n 40 "$work/broken.log" | sed 's/^/    /'
	fail=1
fi
[ "$fail" = 0 ] && echo "check-gate: a clean change passes, a catalog bug fails (logs in ${work#"$here"/}/)"
exit "$fail"
