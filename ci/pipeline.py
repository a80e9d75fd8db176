#!/usr/bin/env python3
"""Runs a CI pipeline of slotheap as a list of steps, each a command, and reports each step's
real result and time.

    ci/pipeline.py pr [--list]        what every pull request must pass (ci/pr.sh)
    ci/pipeline.py nightly [--list]   long campaigns and measurements (ci/nightly.sh)

Every step runs even when an earlier one failed, so one run shows everything that is wrong; the
exit status is 1 if any step failed. Each step's output streams to the terminal and is kept in
build/ci/<pipeline>/<step>.log. The closing table says, for each step, passed, FAILED (with its
exit status) or skipped (named in CI_SKIP, never counted as passed) and how long it took; it is
also written as Markdown to $GITHUB_STEP_SUMMARY when that is set, and to
build/ci/<pipeline>/summary.md.

Environment:
  CI_SKIP="lint boot"      steps not to run (shown as skipped)
  CI_ONLY="check gate"     run only these steps (the others are shown as skipped)
  CI_BASE=<ref>            base of the change for the gate (default: origin/main, else main,
                           else HEAD~1)
  CI_FUZZ_SECONDS=60       pr: length of the fuzzing smoke
  NIGHTLY_FUZZ_SECONDS     nightly: length of each campaign (default 3600)
  NIGHTLY_ENGINE           nightly: libfuzzer (default) or afl
  NIGHTLY_EXHAUSTIVE_SECONDS, NIGHTLY_MUTANTS   nightly: 1800 and 400 by default
  MAKE                     the make program (default make)
"""

import os
import shlex
import subprocess
import sys
import time

sys.dont_write_bytecode = True
from cilib import make_targets  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git_ok(*args):
    return (
        subprocess.run(
            ["git", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def default_base():
    base = os.environ.get("CI_BASE", "")
    if base:
        return base
    for ref in ("origin/main", "main", "HEAD~1"):
        if git_ok("rev-parse", "--verify", "--quiet", ref + "^{commit}"):
            return ref
    return "HEAD"


def steps_pr(make):
    fuzz_s = os.environ.get("CI_FUZZ_SECONDS", "60")
    return [
        ("check", "every deterministic test", [make, "check"]),
        ("lint", "static analysis", [make, "lint"]),
        ("boot", "boots the allocator in a firmware payload", [make, "boot"]),
        ("cross", "cross builds of core/", [make, "cross"]),
        (
            "gate",
            "merge gate for the change",
            [make, "gate", "BASE=" + default_base(), "GATE_SKIP_CHECK=1"],
        ),
        ("coverage", "core/ line and branch coverage", [make, "coverage"]),
        ("fuzz-smoke", "short fuzzing run", [make, "fuzz", "FUZZ_SECONDS=" + fuzz_s]),
    ]


def steps_nightly(make):
    secs = os.environ.get("NIGHTLY_FUZZ_SECONDS", "3600")
    engine = os.environ.get("NIGHTLY_ENGINE", "libfuzzer")
    jobs = os.environ.get("NIGHTLY_JOBS", "2")
    exh = os.environ.get("NIGHTLY_EXHAUSTIVE_SECONDS", "1800")
    mutants = os.environ.get("NIGHTLY_MUTANTS", "400")
    return [
        (
            "fuzz",
            "fuzzing campaign (default build)",
            [make, "fuzz", "FUZZ_SECONDS=" + secs, "ENGINE=" + engine, "JOBS=" + jobs],
        ),
        (
            "fuzz-linear",
            "fuzzing campaign (SH_LINEAR build)",
            [make, "fuzz", "FUZZ_SECONDS=" + secs, "ENGINE=" + engine, "JOBS=" + jobs, "LINEAR=1"],
        ),
        ("corpus-prune", "minimize the work corpus", [make, "corpus-prune"]),
        ("corpus-prune-linear", "the same, SH_LINEAR campaign", [make, "corpus-prune", "LINEAR=1"]),
        ("corpus-merge", "new coverage into corpus/", [make, "corpus-merge"]),
        ("corpus-merge-linear", "the same, SH_LINEAR campaign", [make, "corpus-merge", "LINEAR=1"]),
        ("bugs", "whole bug catalog", [make, "bugs"]),
        (
            "regressions-all",
            "regression corpus alone vs every catalog bug",
            [make, "check-regressions", "BUGS=all"],
        ),
        ("mutation", "mutation sample", [make, "mutation", "MUTATION_SAMPLE=" + mutants]),
        ("coverage", "core/ line and branch coverage", [make, "coverage", "COVERAGE_WORK=1"]),
        (
            "exhaustive",
            "exhaustive small-heap search",
            [make, "exhaustive", "EXHAUSTIVE_SECONDS=" + exh],
        ),
    ]


PIPELINES = {"pr": steps_pr, "nightly": steps_nightly}


def fmt_time(s):
    s = int(round(s))
    return "%d:%02d" % (s // 60, s % 60)


def run_step(name, cmd, logpath, index, count):
    print("==> [%d/%d] %s: %s" % (index, count, name, shlex.join(cmd)), flush=True)
    t0 = time.monotonic()
    with open(logpath, "w", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0
        )
        fd = proc.stdout.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            log.write(chunk.decode("utf-8", "replace"))
        rc = proc.wait()
    dt = time.monotonic() - t0
    print("==> [%d/%d] %s: exit %d after %s" % (index, count, name, rc, fmt_time(dt)), flush=True)
    return rc, dt


def main(argv):
    if len(argv) < 2 or argv[1] not in PIPELINES:
        print("usage: ci/pipeline.py pr|nightly [--list]", file=sys.stderr)
        return 2
    pipeline = argv[1]
    make = os.environ.get("MAKE", "make")
    steps = PIPELINES[pipeline](make)
    names = [s[0] for s in steps]
    skip = os.environ.get("CI_SKIP", "").split()
    only = os.environ.get("CI_ONLY", "").split()
    for n in skip + only:
        if n not in names:
            print(
                "ci: unknown step '%s' in CI_SKIP/CI_ONLY (steps: %s)" % (n, " ".join(names)),
                file=sys.stderr,
            )
            return 2
    if "--list" in argv[2:]:
        for name, what, cmd in steps:
            print("%-20s %-46s %s" % (name, what, shlex.join(cmd)))
        return 0

    logdir = os.path.join(ROOT, "build", "ci", pipeline)
    os.makedirs(logdir, exist_ok=True)
    known = make_targets(ROOT, make)
    results = []
    t_all = time.monotonic()
    for i, (name, what, cmd) in enumerate(steps, 1):
        if name in skip or (only and name not in only):
            why = "CI_SKIP" if name in skip else "not in CI_ONLY"
            print("==> [%d/%d] %s: skipped (%s)" % (i, len(steps), name, why), flush=True)
            results.append((name, what, cmd, "skipped (%s)" % why, None, None))
            continue
        target = cmd[1] if cmd[0] == make else None
        if target and target not in known:
            print("==> [%d/%d] %s: make has no target '%s'" % (i, len(steps), name, target))
            results.append((name, what, cmd, "FAILED (no make target %s)" % target, None, None))
            continue
        logpath = os.path.join(logdir, name + ".log")
        rc, dt = run_step(name, cmd, logpath, i, len(steps))
        res = "passed" if rc == 0 else "FAILED (exit %d)" % rc
        results.append((name, what, cmd, res, dt, os.path.relpath(logpath, ROOT)))
    total = time.monotonic() - t_all

    failed = [r for r in results if r[3].startswith("FAILED")]
    passed = [r for r in results if r[3] == "passed"]
    skipped = [r for r in results if r[3].startswith("skipped")]
    verdict = "FAILED" if failed else "passed"
    print()
    print("ci %s: summary" % pipeline)
    print("  %-20s %-30s %8s  %s" % ("step", "result", "time", "command"))
    for name, what, cmd, res, dt, _ in results:
        t = fmt_time(dt) if dt is not None else "-"
        print("  %-20s %-30s %8s  %s" % (name, res, t, shlex.join(cmd)))
    print(
        "ci %s: %s — %d passed, %d failed, %d skipped in %s (logs in build/ci/%s/)"
        % (pipeline, verdict, len(passed), len(failed), len(skipped), fmt_time(total), pipeline)
    )

    md = ["## slotheap %s pipeline: %s" % (pipeline, verdict), ""]
    md.append("| step | what | result | time | command |")
    md.append("|---|---|---|---:|---|")
    for name, what, cmd, res, dt, _ in results:
        t = fmt_time(dt) if dt is not None else "–"
        mark = "**%s**" % res if res.startswith("FAILED") else res
        md.append("| %s | %s | %s | %s | `%s` |" % (name, what, mark, t, shlex.join(cmd)))
    md.append("")
    md.append(
        "%d passed, %d failed, %d skipped in %s."
        % (len(passed), len(failed), len(skipped), fmt_time(total))
    )
    for extra in ("gate/summary.md", "coverage/summary.md"):
        p = os.path.join(ROOT, "build", extra)
        if os.path.isfile(p) and os.path.getmtime(p) >= time.time() - total - 1:
            with open(p, encoding="utf-8") as f:
                md.append("")
                md.append(f.read().rstrip())
    text = "\n".join(md) + "\n"
    with open(os.path.join(logdir, "summary.md"), "w", encoding="utf-8") as f:
        f.write(text)
    gh = os.environ.get("GITHUB_STEP_SUMMARY")
    if gh:
        with open(gh, "a", encoding="utf-8") as f:
            f.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
