#!/usr/bin/env python3
"""make coverage: line and branch coverage of core/ by the unit tests plus the committed corpus,
per file, for the default and the SH_LINEAR build, held to the thresholds in
tests/coverage/thresholds.txt (the uncovered lines that remain are explained beside it, in
tests/coverage/UNCOVERED.md).

For each build the tree's own make rules build, with clang source-based coverage (-O0, no
sanitizers) in place of the sanitizer flags, every unit test program (tests/test_*.c, each with
what its make fragment links it with) and every fuzz target's coverage replay program (the cov
kind of mk/40-fuzz.mk). The script runs every unit test program, then every target over
corpus/<target>/ and corpus/regressions/<target>-* (and the fuzzing work corpus with --work),
merges the profiles and reports core/*.c only. --root measures another tree (the merge gate
measures the base of a change this way).

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
BUILDS = ("default", "linear")
COV = ["-O0", "-g", "-fprofile-instr-generate", "-fcoverage-mapping"]


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


def make_build(root, objdir, build, cc, jobs, log):
    """Builds the unit test programs and the fuzz targets' coverage build of the tree at root
    with that tree's own make rules (so each test gets the objects and flags its fragment
    gives it), compiled by clang with source-based coverage instead of sanitizers. Returns
    (unit test programs, directory of the fuzz targets' replay programs) or an error."""
    tests = sorted(os.path.basename(t)[:-2] for t in glob.glob(os.path.join(root, "tests",
                                                                           "test_*.c")))
    cov = " ".join(COV)
    if build == "default":
        var = ["VFLAGS_san=" + cov]
        bins = [os.path.join(objdir, "tests", t) for t in tests]
        fuzzdir = os.path.join(objdir, "fuzz", "core", "cov", "bin")
    else:
        # Objects a linear test borrows from the default tree are built without sanitizers too.
        var = ["VFLAGS_san=" + cov, "VFLAGS_linsan=%s -DSH_LINEAR=1" % cov, "LINEAR=1"]
        bins = [os.path.join(objdir, "linsan", "tests", t) for t in tests]
        fuzzdir = os.path.join(objdir, "fuzz", "core-linear", "cov", "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                                                             "CFLAGS", "LDFLAGS")}
    cmd = [os.environ.get("MAKE", "make"), "-C", root, "--no-print-directory", "-j%d" % jobs,
           "O=" + objdir, "CC=" + cc, "CLANG=" + cc, *var, *bins, "fuzz-build-cov"]
    with open(log, "w") as f:
        r = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        with open(log, errors="replace") as f:
            return None, None, "make failed (%s):\n%s" % (log, f.read()[-2500:])
    return bins, fuzzdir, None


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
    bdir = os.path.join(out, build)
    raw = os.path.join(bdir, "raw")
    shutil.rmtree(raw, ignore_errors=True)
    os.makedirs(raw)
    core = sorted(glob.glob(os.path.join(root, "core", "*.c")))
    targets = fuzz_targets(root)
    bins, fuzzdir, err = make_build(root, os.path.join(bdir, "obj"), build, cc, jobs,
                                    os.path.join(bdir, "build.log"))
    if err:
        return None, None, ["build failed: " + err]
    problems = []
    exes = [("unit", b, []) for b in bins]
    for t in targets:
        ins = inputs_of(root, t, work)
        if ins:
            exes.append(("corpus", os.path.join(fuzzdir, t), ins))
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
