#!/usr/bin/env python3
"""The regression corpus against the bug catalog (fuzz/bugs/NN-name.patch).

  regressions.py collect [--seconds 60] [--bugs "07 12"]
      For each catalog bug that has no entry in corpus/regressions/ yet: apply the patch to a
      copy of core/, fuzz the targets with libFuzzer from the committed corpus (the most
      likely target first, at most --seconds each) and hand the first finding to
      `make triage NAME=<bug>`, which minimizes it against the patched copy and writes
      corpus/regressions/<target>-<bug> and its .trace. A bug no target exposes within the cap
      is added to corpus/regressions/unfound.txt. Progress per bug, a table at the end.

  regressions.py check [--bugs "07 12" | --subset fuzz/bugs/check-subset.txt]
      For each selected bug: replaying corpus/regressions/ alone (scripts/replay.sh with
      REPLAY_SET=regressions) against the patched copy must fail, and must fail on the bug's
      own entry; a bug without an entry must be listed in unfound.txt. The same replay against
      the unpatched copy must pass first. Exits non-zero on any miss.

Environment: O (build directory, default build), MAKE (default make), REGRESSIONS_JOBS
(parallel jobs of the builds, default 2).
"""
import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import time

from fuzzopts import lf_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
O = os.environ.get("O", "build")
MAKE = os.environ.get("MAKE", "make")
JOBS = os.environ.get("REGRESSIONS_JOBS", "2")
REG = "corpus/regressions"
UNFOUND = os.path.join(REG, "unfound.txt")


def targets():
    pat = re.compile(r"^int LLVMFuzzerTestOneInput\(.*\)$", re.M)
    out = []
    for f in sorted(os.listdir("fuzz")):
        if f.endswith(".c") and pat.search(open(os.path.join("fuzz", f)).read()):
            out.append(f[:-2])
    return out


def patches(selection, subset):
    names = sorted(f[:-6] for f in os.listdir("fuzz/bugs") if f.endswith(".patch"))
    words = []
    if selection:
        words = selection.replace(",", " ").split()
    elif subset:
        for line in open(subset):
            words += line.split("#", 1)[0].split()
    if not words or words == ["all"]:
        return names
    out = []
    for n in names:
        for w in words:
            if (w.isdigit() and n.startswith("%02d-" % int(w))) or (not w.isdigit() and w in n):
                out.append(n)
                break
    return out


def touched(patch):
    return re.findall(r"^\+\+\+ b/core/(\S+)", open(patch).read(), re.M)


def target_order(files, tgts):
    """The targets most likely to reach the patched files first."""
    first = []
    for f in files:
        if f in ("cbtable.c", "memmap.c", "mm_internal.h", "place.c"):
            first += ["memmap_parse", "boot_differential"]
        elif f == "boot.c":
            first += ["boot_differential"]
        else:
            first += ["ops_differential", "boot_differential"]
    order = [t for t in dict.fromkeys(first) if t in tgts]
    return order + [t for t in tgts if t not in order]


def entries(bug):
    if not os.path.isdir(REG):
        return []
    return sorted(
        os.path.join(REG, f)
        for f in os.listdir(REG)
        if f.endswith("-" + bug) and os.path.isfile(os.path.join(REG, f))
    )


def unfound():
    out = {}
    if os.path.exists(UNFOUND):
        for line in open(UNFOUND):
            line = line.split("#", 1)[0].strip()
            if line:
                bug, _, why = line.partition(" ")
                out[bug] = why.strip()
    return out


class Copy:
    """A copy of core/ under work/, patched; only files that differ are rewritten, so make
    rebuilds only what a patch changes."""

    def __init__(self, work):
        self.dir = os.path.join(work, "core")
        os.makedirs(self.dir, exist_ok=True)

    def reset(self):
        for f in os.listdir(self.dir):
            if not os.path.exists(os.path.join("core", f)):
                os.remove(os.path.join(self.dir, f))
        for f in os.listdir("core"):
            src, dst = os.path.join("core", f), os.path.join(self.dir, f)
            if not os.path.exists(dst) or not filecmp.cmp(src, dst, shallow=False):
                shutil.copyfile(src, dst)

    def apply(self, patch):
        self.reset()
        work = os.path.dirname(self.dir)
        with open(patch) as fh:
            r = subprocess.run(
                ["patch", "-p1", "-s", "-F0", "--no-backup-if-mismatch"],
                stdin=fh, cwd=work, capture_output=True, text=True)
        if r.returncode != 0:
            self.reset()
            return r.stdout + r.stderr
        return None

    def make_args(self, linear):
        return [MAKE, "--no-print-directory", "-s", "-j" + JOBS, "O=" + O, "CORE_DIR=" + self.dir,
                "LINEAR=" + ("1" if linear else "0")]

    def fuzz_o(self, linear):
        return os.path.join(O, "fuzz", self.dir.strip("/").replace("/", "_") +
                            ("-linear" if linear else ""))


def lf_options_with_dict(t):
    out = lf_options(t)
    if os.path.exists(os.path.join("fuzz", t + ".dict")):
        out.append("-dict=fuzz/%s.dict" % t)
    return out


def log(msg):
    print(msg, flush=True)


def collect(args):
    tgts = targets()
    work = os.path.join(O, "regressions", "collect")
    copy = Copy(work)
    known = unfound()
    rows = []
    bugs = patches(args.bugs, None)
    for i, bug in enumerate(bugs, 1):
        have = entries(bug)
        if have:
            log("[%2d/%d] %s: already in %s" % (i, len(bugs), bug, have[0]))
            rows.append((bug, os.path.basename(have[0]), "kept", ""))
            continue
        if bug in known and not args.retry_unfound:
            log("[%2d/%d] %s: recorded as not found (%s)" % (i, len(bugs), bug, known[bug]))
            rows.append((bug, "-", "unfound", known[bug]))
            continue
        patch = os.path.join("fuzz/bugs", bug + ".patch")
        err = copy.apply(patch)
        if err:
            log("[%2d/%d] %s: FAILURE: patch does not apply: %s" % (i, len(bugs), bug, err))
            rows.append((bug, "-", "FAILURE", "patch does not apply"))
            continue
        files = touched(patch)
        linear = all(f == "freeset_linear.c" for f in files)
        found = None
        for t in target_order(files, tgts):
            fo = copy.fuzz_o(linear)
            b = subprocess.run(copy.make_args(linear) + [fo + "/libfuzzer/bin/" + t],
                               capture_output=True, text=True)
            if b.returncode != 0:
                log("        %-18s FAILURE: does not build: %s" % (t, b.stderr[-300:]))
                continue
            d = os.path.join(work, "runs", bug, t)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(os.path.join(d, "corpus"))
            os.makedirs(os.path.join(d, "art"))
            cmd = [fo + "/libfuzzer/bin/" + t, "-max_total_time=%d" % args.seconds, "-seed=1",
                   "-timeout=10", "-rss_limit_mb=2048", "-artifact_prefix=" + d + "/art/"]
            cmd += lf_options_with_dict(t) + [d + "/corpus", "corpus/" + t]
            t0 = time.time()
            with open(os.path.join(d, "log"), "w") as lf:
                subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT,
                               timeout=args.seconds + 120)
            secs = time.time() - t0
            arts = sorted(os.listdir(os.path.join(d, "art")))
            if not arts:
                log("        %-18s nothing in %.0fs" % (t, secs))
                continue
            art = os.path.join(d, "art", arts[0])
            log("        %-18s found %s in %.1fs; triage" % (t, arts[0].split("-")[0], secs))
            tr = subprocess.run(
                copy.make_args(linear) + ["triage", "CRASH=" + art, "TARGET=" + t, "NAME=" + bug,
                                          "ORIGIN=fuzz/bugs/%s.patch applied to core/" % bug],
                capture_output=True, text=True)
            with open(os.path.join(d, "triage.log"), "w") as fh:
                fh.write(tr.stdout + tr.stderr)
            dest = os.path.join(REG, "%s-%s" % (t, bug))
            if tr.returncode != 0 or not os.path.exists(dest):
                log("        %-18s triage FAILED (log %s/triage.log)" % (t, d))
                continue
            m = re.search(r"^  failure\s+(.*)$", tr.stdout, re.M)
            found = (bug, os.path.basename(dest), "%.1fs" % secs,
                     "%d bytes, %s" % (os.path.getsize(dest), m.group(1) if m else "?"))
            break
        if found:
            log("[%2d/%d] %s: %s (%s)" % (i, len(bugs), bug, found[1], found[3]))
            rows.append(found)
        else:
            why = "no fuzz target exposed it within %ds each (libFuzzer, committed corpus)" % (
                args.seconds)
            log("[%2d/%d] %s: not found: %s" % (i, len(bugs), bug, why))
            if bug not in known:
                with open(UNFOUND, "a") as fh:
                    fh.write("%s %s\n" % (bug, why))
            rows.append((bug, "-", "unfound", why))
    copy.reset()
    print()
    print("regressions collect summary")
    print("  %-36s %-50s %-8s %s" % ("bug", "entry", "found", "input / reason"))
    for r in rows:
        print("  %-36s %-50s %-8s %s" % r)
    n = sum(1 for r in rows if r[1] != "-")
    print("regressions: %d of %d bugs have an entry, %d not found within the cap" %
          (n, len(rows), sum(1 for r in rows if r[2] == "unfound")))
    return 0 if not any(r[2] == "FAILURE" for r in rows) else 1


def replay_regressions(copy, linear):
    """scripts/replay.sh over corpus/regressions/ alone with the copy's replay build."""
    fo = copy.fuzz_o(linear)
    b = subprocess.run(copy.make_args(linear) + ["fuzz-build-replay"], capture_output=True,
                       text=True)
    if b.returncode != 0:
        return None, b.stdout + b.stderr
    env = dict(os.environ, REPLAY_SET="regressions")
    r = subprocess.run(["bash", "scripts/replay.sh", fo + "/replay/bin"] + targets(), env=env,
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def check(args):
    work = os.path.join(O, "regressions", "check")
    copy = Copy(work)
    bugs = patches(args.bugs, args.subset)
    known = unfound()
    t_start = time.time()
    copy.reset()
    rc, out = replay_regressions(copy, False)
    if rc != 0:
        print(out)
        print("check-regressions: FAILED: replaying %s/ fails on the unpatched core" % REG)
        return 1
    log("check-regressions: %d bug(s); %s/ alone replays clean on the unpatched core" %
        (len(bugs), REG))
    rows, failed = [], 0
    for i, bug in enumerate(bugs, 1):
        mine = entries(bug)
        if not mine:
            if bug in known:
                rows.append((bug, "-", "no entry: " + known[bug]))
            else:
                failed += 1
                rows.append((bug, "-", "FAILED: no entry and not recorded in " + UNFOUND))
            log("[%2d/%d] %-36s %s" % (i, len(bugs), bug, rows[-1][2]))
            continue
        patch = os.path.join("fuzz/bugs", bug + ".patch")
        err = copy.apply(patch)
        if err:
            failed += 1
            rows.append((bug, "-", "FAILED: patch does not apply"))
            log("[%2d/%d] %-36s %s" % (i, len(bugs), bug, rows[-1][2]))
            continue
        linear = all(f == "freeset_linear.c" for f in touched(patch))
        t0 = time.time()
        rc, out = replay_regressions(copy, linear)
        own = [e for e in mine if re.search(r"^ *FAIL %s[: ]" % re.escape(e), out, re.M)]
        if rc is None:
            failed += 1
            verdict = "FAILED: does not build"
        elif rc == 0:
            failed += 1
            verdict = "FAILED: the regression corpus does not catch it"
        elif not own:
            failed += 1
            verdict = "FAILED: caught, but not by its own entry %s" % os.path.basename(mine[0])
        else:
            nfail = re.search(r"^replay: \d+ passed, (\d+) failed$", out, re.M)
            verdict = "caught by %s (%s input(s) fail, %.1fs)" % (
                os.path.basename(own[0]), nfail.group(1) if nfail else "?", time.time() - t0)
        rows.append((bug, os.path.basename(mine[0]), verdict))
        log("[%2d/%d] %-36s %s" % (i, len(bugs), bug, verdict))
        if verdict.startswith("FAILED") and rc is not None:
            with open(os.path.join(work, bug + ".log"), "w") as fh:
                fh.write(out)
    copy.reset()
    print()
    print("check-regressions summary (replaying %s/ alone against each patched core)" % REG)
    print("  %-36s %s" % ("bug", "result"))
    for r in rows:
        print("  %-36s %s" % (r[0], r[2]))
    ok = len(rows) - failed
    print("check-regressions: %d passed, %d failed (%.0fs)" % (ok, failed, time.time() - t_start))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--seconds", type=int, default=60)
    c.add_argument("--bugs", default="")
    c.add_argument("--retry-unfound", action="store_true")
    k = sub.add_parser("check")
    k.add_argument("--bugs", default="")
    k.add_argument("--subset", default="")
    a = ap.parse_args()
    return collect(a) if a.cmd == "collect" else check(a)


if __name__ == "__main__":
    sys.exit(main())
