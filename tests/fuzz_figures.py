#!/usr/bin/env python3
"""Checks that make fuzz reports one set of figures, computed the same way for every engine and
job count (scripts/fuzz.py).

Runs three short campaigns of one target from a fresh work directory each, with a fixed
seed: libFuzzer, libFuzzer with JOBS=2, AFL++. For each it checks that the table row (its CSV)
agrees with the last progress line and with itself (new = end - start, exec/s = execs over
the wall time), that the progress lines carried live figures, and that the figures match what
this test computes on its own: the seed count and the distinct inputs of the seeds and the
work corpus (by content), and the coverage of that final corpus replayed through the coverage
build in a fresh profile. Across the three runs the seeds, the starting corpus and the
starting coverage must be equal, since they start from the same inputs.

  tests/fuzz_figures.py [--target memmap_parse] [--seconds 8] [--work build/fuzz-figures]

Prints one line per check that fails and "fuzz-figures: N passed, N failed".
"""
import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
MAKE = os.environ.get("MAKE", "make")
O = os.environ.get("O", "build")
PROFDATA = os.environ.get("LLVM_PROFDATA") or shutil.which("llvm-profdata") or "llvm-profdata-14"
LLVMCOV = os.environ.get("LLVM_COV") or shutil.which("llvm-cov") or "llvm-cov-14"
SKIP = (".trace", ".md", ".txt", ".svg")

PROGRESS = re.compile(
    r"^(?P<t>\S+) +(?P<el>\d+)s/\d+s  execs (?P<execs>\d+) +exec/s (?P<eps>\d+) +"
    r"corpus (?P<start>\d+) -> (?P<end>\d+) \(\+(?P<new>\d+)\)  coverage (?P<cov>\S+) "
    r"\((?P<when>final|at \d+s)\)$")

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("fuzz-figures: FAILED: " + what)


def files(d, prefix=""):
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.startswith(prefix) and not f.endswith(SKIP) and not f.startswith(".")
            and not f.startswith("README") and os.path.isfile(os.path.join(d, f))]


def sha(p):
    with open(p, "rb") as fh:
        return hashlib.sha1(fh.read()).hexdigest()


def coverage(covbin, inputs, d):
    """Regions of core/ and ref/ covered by inputs, from a profile of their own."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(d, "%p.profraw"))
    for i in range(0, len(inputs), 400):
        subprocess.run([covbin, "-q", "-t", "10"] + inputs[i:i + 400], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    raws = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".profraw")]
    prof = os.path.join(d, "p.profdata")
    subprocess.run([PROFDATA, "merge", "-sparse", "-o", prof] + raws, check=True)
    srcs = sorted([os.path.join("core", f) for f in os.listdir("core") if f.endswith(".c")] +
                  [os.path.join("ref", f) for f in os.listdir("ref") if f.endswith(".c")])
    r = subprocess.run([LLVMCOV, "export", "-summary-only", "-instr-profile=" + prof, covbin] +
                       srcs, capture_output=True, text=True, check=True)
    reg = json.loads(r.stdout)["data"][0]["totals"]["regions"]
    return "%d/%d" % (reg["covered"], reg["count"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="memmap_parse")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--work", default=os.path.join(O, "fuzz-figures"))
    a = ap.parse_args()
    t = a.target
    seeds = files(os.path.join("corpus", t)) + files("corpus/regressions", t + "-")
    seed_hashes = {sha(p) for p in seeds}
    covbin = os.path.join(O, "fuzz", "core", "cov", "bin", t)
    runs = [("libfuzzer", 1), ("libfuzzer", 2), ("afl", 1)]
    rows = {}
    for engine, jobs in runs:
        name = "%s-j%d" % (engine, jobs)
        work = os.path.join(a.work, name)
        shutil.rmtree(work, ignore_errors=True)
        print("fuzz-figures: %s, JOBS=%d, %ds of %s" % (engine, jobs, a.seconds, t), flush=True)
        r = subprocess.run(
            [MAKE, "--no-print-directory", "fuzz", "O=" + O, "TARGETS=" + t, "ENGINE=" + engine,
             "JOBS=%d" % jobs, "FUZZ_SECONDS=%d" % a.seconds, "FUZZ_WORK=" + work,
             "FUZZ_SEED=1", "FUZZ_PROGRESS=2"],
            capture_output=True, text=True, env=dict(os.environ, MAKEFLAGS=""))
        out = r.stdout + r.stderr
        with open(os.path.join(a.work, name + ".log"), "w") as fh:
            fh.write(out)
        check(r.returncode == 0, "%s: make fuzz exit status %d (log %s/%s.log)" % (
            name, r.returncode, a.work, name))
        if r.returncode != 0:
            print(out[-2000:])
            continue
        lines = [m.groupdict() for m in map(PROGRESS.match, out.splitlines()) if m]
        final = [l for l in lines if l["when"] == "final"]
        live = [l for l in lines if l["when"] != "final"]
        check(len(final) == 1, "%s: one final progress line (got %d)" % (name, len(final)))
        with open(os.path.join(work, "fuzz.csv")) as fh:
            row = list(csv.DictReader(fh))[0]
        rows[name] = row
        if final:
            f = final[0]
            for key, col in (("execs", "execs"), ("start", "corpus_start"),
                             ("end", "corpus_end"), ("new", "new"), ("cov", "coverage_end"),
                             ("eps", "execs_per_s")):
                check(f[key] == row[col], "%s: last progress line %s %s, table %s %s" % (
                    name, key, f[key], col, row[col]))
        n = {k: int(row[k]) for k in ("seeds", "corpus_start", "corpus_end", "new", "execs",
                                     "execs_per_s")}
        secs = float(row["seconds"])
        check(n["new"] == n["corpus_end"] - n["corpus_start"], "%s: new %d != end %d - start %d"
              % (name, n["new"], n["corpus_end"], n["corpus_start"]))
        check(n["execs"] > 0, "%s: no executions counted" % name)
        check(abs(n["execs"] / secs - n["execs_per_s"]) <= n["execs_per_s"] * 0.01 + 1,
              "%s: exec/s %d is not execs %d over %.1fs" % (
                  name, n["execs_per_s"], n["execs"], secs))
        check(n["seeds"] == len(seeds), "%s: seeds %d, the test counts %d" % (
            name, n["seeds"], len(seeds)))
        check(n["corpus_start"] == len(seed_hashes),
              "%s: corpus at start %d, the test counts %d distinct seed inputs" % (
                  name, n["corpus_start"], len(seed_hashes)))
        final_inputs = files(os.path.join(work, t, "seeds")) + files(
            os.path.join(work, t, "corpus"))
        check(n["corpus_end"] == len({sha(p) for p in final_inputs}),
              "%s: corpus at end %d, the test counts %d distinct inputs in seeds and corpus" %
              (name, n["corpus_end"], len({sha(p) for p in final_inputs})))
        own = coverage(covbin, final_inputs, os.path.join(a.work, name + "-cov"))
        check(own == row["coverage_end"], "%s: coverage at end %s, the test's replay gives %s" %
              (name, row["coverage_end"], own))
        check(len(live) >= 1 and all(int(l["execs"]) > 0 for l in live),
              "%s: progress lines during the run carry live executions" % name)
        ex = [int(l["execs"]) for l in lines]
        check(ex == sorted(ex), "%s: executions never go down across progress lines" % name)
    if len(rows) == len(runs):
        for col in ("seeds", "corpus_start", "coverage_start"):
            vals = {k: r[col] for k, r in rows.items()}
            check(len(set(vals.values())) == 1, "runs disagree on %s: %s" % (col, vals))
        for k, r in rows.items():
            s, e = (int(r[c].split("/")[0]) for c in ("coverage_start", "coverage_end"))
            check(e >= s, "%s: coverage fell from %d to %d" % (k, s, e))
        print("fuzz-figures: %-14s %6s %6s %6s %10s %8s  %-10s %-10s" % (
            "run", "seeds", "start", "end", "execs", "exec/s", "cov start", "cov end"))
        for k, r in rows.items():
            print("fuzz-figures: %-14s %6s %6s %6s %10s %8s  %-10s %-10s" % (
                k, r["seeds"], r["corpus_start"], r["corpus_end"], r["execs"],
                r["execs_per_s"], r["coverage_start"], r["coverage_end"]))
    print("fuzz-figures: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
