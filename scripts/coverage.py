#!/usr/bin/env python3
"""make coverage: line and branch coverage of core/ by the unit tests plus the committed corpus,
per file, for the default and the SH_LINEAR build, held to the thresholds in
tests/coverage/thresholds.txt (the uncovered lines that remain are explained beside it, in
tests/coverage/UNCOVERED.md).

For each build the script compiles, with clang source-based coverage (-O0, no sanitizers):
core/, ref/ and the shared fuzz code into static libraries; every unit test program
(tests/test_*.c with the tests/util_*.c helpers, linked with cmocka); every fuzz target with the
replay driver (fuzz/replay_main.c). It runs every unit test program, then every target over
corpus/<target>/ and corpus/regressions/<target>-* (and the fuzzing work corpus with --work),
merges the profiles and reports core/*.c only. It builds by itself rather than through make so
that the merge gate can measure the base of a change with the same method (--root).

    scripts/coverage.py [--root DIR] [--out DIR] [--builds default,linear] [--work]
                        [--no-thresholds] [--json FILE] [-j N]

Output: a table per build (and a Markdown copy in OUT/summary.md), OUT/<build>/html/index.html,
OUT/<build>/uncovered.txt (each uncovered line and each branch never taken, with its source).
Exit 1 when a figure is below its threshold or a unit test or corpus input fails.
"""

import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDS = {"default": [], "linear": ["-DSH_LINEAR=1"]}
COV = ["-O0", "-g", "-fprofile-instr-generate", "-fcoverage-mapping", "-std=c11"]


def tool(*names):
    for n in names:
        if shutil.which(n):
            return n
    sys.exit("coverage: none of %s found (scripts/install-deps.sh fuzz)" % ", ".join(names))


def fuzz_targets(root):
    out = []
    for f in sorted(glob.glob(os.path.join(root, "fuzz", "*.c"))):
        with open(f, encoding="utf-8") as fh:
            if re.search(r"^int LLVMFuzzerTestOneInput\(.*\)$", fh.read(), re.M):
                out.append(os.path.basename(f)[:-2])
    return out


class Builder:
    def __init__(self, root, obj, defs, jobs, cc):
        self.root, self.obj, self.defs, self.jobs, self.cc = root, obj, defs, jobs, cc
        self.inc = ["-I" + os.path.join(root, d) for d in ("core", "ref", "fuzz", "tests")]

    def o(self, src):
        return os.path.join(self.obj, os.path.relpath(src, self.root)[:-2] + ".o")

    def compile_all(self, srcs):
        def one(src):
            out = self.o(src)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            if os.path.exists(out) and os.path.getmtime(out) > max(
                    os.path.getmtime(src), self.newest_header):
                return None
            r = subprocess.run([self.cc, *COV, *self.defs, *self.inc, "-c", src, "-o", out],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            return None if r.returncode == 0 else "%s:\n%s" % (src, r.stdout[-2000:])

        self.newest_header = max([os.path.getmtime(h) for d in ("core", "ref", "fuzz", "tests")
                                  for h in glob.glob(os.path.join(self.root, d, "*.h"))] or [0])
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as ex:
            return [e for e in ex.map(one, srcs) if e]

    def archive(self, name, srcs):
        a = os.path.join(self.obj, name)
        if os.path.exists(a):
            os.remove(a)
        subprocess.run(["ar", "rcs", a, *[self.o(s) for s in srcs]], check=True)
        return a

    def link(self, exe, objs, libs):
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        r = subprocess.run([self.cc, "-fprofile-instr-generate", "-o", exe, *objs, *libs],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return None if r.returncode == 0 else "%s:\n%s" % (exe, r.stdout[-2000:])


def inputs_of(root, target, work):
    ins = []
    d = os.path.join(root, "corpus", target)
    if os.path.isdir(d):
        ins.append(d)
    for f in sorted(glob.glob(os.path.join(root, "corpus", "regressions", target + "-*"))):
        if os.path.isfile(f) and not re.search(r"\.(trace|md|txt|svg)$", f):
            ins.append(f)
    if work and os.path.isdir(work):
        w = os.path.join(work, target, "corpus")
        if os.path.isdir(w):
            ins.append(w)
    return ins


def measure(root, out, build, jobs, cc, profdata, llvm_cov, work):
    """Builds, runs and reports one build; returns (files, reach, problems): per core/ file
    (covered, count) of lines and branches; per fuzz target the core/ files its corpus runs."""
    defs = BUILDS[build]
    bdir = os.path.join(out, build)
    raw = os.path.join(bdir, "raw")
    shutil.rmtree(raw, ignore_errors=True)
    os.makedirs(raw)
    b = Builder(root, os.path.join(bdir, "obj"), defs, jobs, cc)
    core = sorted(glob.glob(os.path.join(root, "core", "*.c")))
    ref = sorted(glob.glob(os.path.join(root, "ref", "*.c")))
    targets = fuzz_targets(root)
    fz = [f for f in sorted(glob.glob(os.path.join(root, "fuzz", "*.c")))
          if os.path.basename(f)[:-2] not in targets + ["replay_main"]]
    tests = sorted(glob.glob(os.path.join(root, "tests", "test_*.c")))
    utils = sorted(glob.glob(os.path.join(root, "tests", "util_*.c")))
    mains = [os.path.join(root, "fuzz", t + ".c") for t in targets]
    replay_main = os.path.join(root, "fuzz", "replay_main.c")
    problems = b.compile_all(core + ref + fz + tests + utils + mains + [replay_main])
    if problems:
        return None, None, ["build failed: " + p for p in problems]
    libs = [b.archive("libfuzzshared.a", fz), b.archive("libslotheap.a", core),
            b.archive("libshref.a", ref)]
    exes = []
    for t in tests:
        exe = os.path.join(bdir, "bin", os.path.basename(t)[:-2])
        err = b.link(exe, [b.o(t)] + [b.o(u) for u in utils], libs + ["-lcmocka"])
        if err:
            return None, None, ["link failed: " + err]
        exes.append(("unit", exe, []))
    for t in targets:
        exe = os.path.join(bdir, "bin", t)
        err = b.link(exe, [b.o(os.path.join(root, "fuzz", t + ".c")), b.o(replay_main)], libs)
        if err:
            return None, None, ["link failed: " + err]
        ins = inputs_of(root, t, work)
        if ins:
            exes.append(("corpus", exe, ins))
    for kind, exe, ins in exes:
        env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(
            raw, os.path.basename(exe) + "-%p.profraw"), CMOCKA_MESSAGE_OUTPUT="stdout")
        cmd = [exe] if kind == "unit" else [exe, "-q", *ins]
        r = subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        if r.returncode != 0:
            problems.append("%s %s exit %d:\n%s" % (kind, os.path.basename(exe), r.returncode,
                                                     r.stdout[-1500:]))
    reach = {}
    for kind, exe, _ in exes:
        if kind != "corpus":
            continue
        name = os.path.basename(exe)
        tprof = os.path.join(bdir, name + ".profdata")
        subprocess.run([profdata, "merge", "-sparse", *glob.glob(os.path.join(
            raw, name + "-*.profraw")), "-o", tprof], check=True)
        rep = subprocess.run([llvm_cov, "export", "-summary-only", "-instr-profile=" + tprof,
                              exe, *core], stdout=subprocess.PIPE, text=True, check=True).stdout
        reach[name] = sorted(os.path.relpath(f["filename"], root) for f in json.loads(rep)[
            "data"][0]["files"] if f["summary"]["lines"]["covered"] > 0)
    prof = os.path.join(bdir, "all.profdata")
    subprocess.run([profdata, "merge", "-sparse", *glob.glob(os.path.join(raw, "*.profraw")),
                    "-o", prof], check=True)
    objargs = [exes[0][1]] + [a for _, e, _ in exes[1:] for a in ("-object", e)]
    srcs = core
    rep = subprocess.run([llvm_cov, "export", "-summary-only", "-instr-profile=" + prof,
                          *objargs, *srcs], stdout=subprocess.PIPE, text=True, check=True).stdout
    files = {}
    for f in json.loads(rep)["data"][0]["files"]:
        rel = os.path.relpath(f["filename"], root)
        s = f["summary"]
        files[rel] = {k: (s[k]["covered"], s[k]["count"]) for k in ("lines", "branches")}
    html = os.path.join(bdir, "html")
    shutil.rmtree(html, ignore_errors=True)
    subprocess.run([llvm_cov, "show", "-format=html", "-show-branches=count",
                    "-output-dir=" + html, "-instr-profile=" + prof, *objargs, *srcs],
                   stdout=subprocess.DEVNULL, check=True)
    text = subprocess.run([llvm_cov, "show", "-show-branches=count", "-instr-profile=" + prof,
                           *objargs, *srcs], stdout=subprocess.PIPE, text=True,
                          errors="replace", check=True).stdout
    write_uncovered(text, root, os.path.join(bdir, "uncovered.txt"))
    return files, reach, problems


def write_uncovered(text, root, path):
    """Each line with a zero count and each branch never taken, file by file."""
    out, cur, last = [], None, None
    for line in text.splitlines():
        if line.startswith("/") and line.endswith(".c:"):
            cur = os.path.relpath(line[:-1], root)
            continue
        m = re.match(r"^\s*(\d+)\|\s*(\S*)\|(.*)$", line)
        if m:
            last = (m.group(1), m.group(3))
            if m.group(2) == "0":
                out.append("%s:%s: line never run: %s" % (cur, m.group(1), m.group(3).strip()))
            continue
        m = re.search(r"Branch \((\d+):(\d+)\): \[True: ([\d.]+[kMG]?), False: ([\d.]+[kMG]?)\]", line)
        if m and (m.group(3) == "0" or m.group(4) == "0") and last:
            side = "true" if m.group(3) == "0" else "false"
            if m.group(3) == "0" and m.group(4) == "0":
                side = "either"
            out.append("%s:%s:%s: branch never %s: %s" % (cur, m.group(1), m.group(2),
                                                          "taken" if side == "either" else side,
                                                          last[1].strip()))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def pct(c):
    return 100.0 * c[0] / c[1] if c[1] else 100.0


def read_thresholds(path):
    th = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        if len(line) != 3 or line[0] not in BUILDS:
            sys.exit("coverage: %s: bad line %r (build lines%% branches%%)" % (path, " ".join(line)))
        th[line[0]] = (float(line[1]), float(line[2]))
    return th


def main(argv):
    root, out, builds, work, use_th, jpath, jobs = HERE, None, list(BUILDS), None, True, None, 2
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--root":
            root = os.path.abspath(args.pop(0))
        elif a == "--out":
            out = os.path.abspath(args.pop(0))
        elif a == "--builds":
            builds = args.pop(0).split(",")
        elif a == "--work":
            work = os.path.join(HERE, os.environ.get("O", "build"), "fuzz-work", "core")
        elif a == "--no-thresholds":
            use_th = False
        elif a == "--json":
            jpath = args.pop(0)
        elif a == "-j":
            jobs = int(args.pop(0))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    out = out or os.path.join(HERE, os.environ.get("O", "build"), "coverage")
    cc = os.environ.get("CLANG", "clang")
    profdata = os.environ.get("LLVM_PROFDATA") or tool("llvm-profdata", "llvm-profdata-14")
    llvm_cov = os.environ.get("LLVM_COV") or tool("llvm-cov", "llvm-cov-14")
    thresholds = read_thresholds(os.path.join(HERE, "tests", "coverage", "thresholds.txt"))
    os.makedirs(out, exist_ok=True)
    results, failed, md = {}, False, []
    t0 = time.monotonic()
    for build in builds:
        print("coverage: %s build of %s (unit tests + corpus)" % (build, os.path.relpath(
            root, HERE) if root != HERE else "core/"), flush=True)
        files, reach, problems = measure(root, out, build, jobs, cc, profdata, llvm_cov, work)
        for p in problems:
            print("coverage: FAILED: " + p)
            failed = True
        if files is None:
            continue
        tot = [sum(f[k][i] for f in files.values()) for k in ("lines", "branches")
               for i in (0, 1)]
        total = {"lines": (tot[0], tot[1]), "branches": (tot[2], tot[3])}
        results[build] = {"files": files, "total": total, "reach": reach}
        print("  %-24s %16s %16s" % ("file (" + build + ")", "lines", "branches"))
        md += ["| %s build: file | lines | branches |" % build, "|---|---:|---:|"]
        for name in sorted(files) + ["total"]:
            f = total if name == "total" else files[name]
            if name != "total" and not f["lines"][1]:
                continue
            cells = ["%6.2f%% %4d/%-4d" % (pct(f[k]), f[k][0], f[k][1]) for k in
                     ("lines", "branches")]
            print("  %-24s %s %s" % (name, cells[0], cells[1]))
            md.append("| %s | %.2f %% (%d/%d) | %.2f %% (%d/%d) |" % (
                name, pct(f["lines"]), *f["lines"], pct(f["branches"]), *f["branches"]))
        md.append("")
        if use_th:
            want = thresholds.get(build)
            if not want:
                print("coverage: FAILED: no threshold for the %s build" % build)
                failed = True
                continue
            got = (pct(total["lines"]), pct(total["branches"]))
            ok = got[0] >= want[0] and got[1] >= want[1]
            line = "coverage: %s build: lines %.2f%% (threshold %.2f%%), branches %.2f%% " \
                "(threshold %.2f%%): %s" % (build, got[0], want[0], got[1], want[1],
                                            "ok" if ok else "BELOW THRESHOLD")
            print(line)
            md.append(line.replace("coverage: ", "") + "\n")
            failed |= not ok
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("### core/ coverage (unit tests + corpus)\n\n" + "\n".join(md) + "\n")
    if jpath:
        with open(jpath, "w") as f:
            json.dump(results, f, indent=1)
    print("coverage: HTML in %s/<build>/html/index.html, uncovered lines in "
          "%s/<build>/uncovered.txt (%.0f s)" % (os.path.relpath(out, HERE),
                                                 os.path.relpath(out, HERE),
                                                 time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
