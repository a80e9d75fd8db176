#!/usr/bin/env python3
"""make check-cflite: runs .clusterfuzzlite/build.sh in a simulated OSS-Fuzz builder, once per
engine/sanitizer combination this machine can build, then runs what it produced.

The builder is simulated the way the base-builder image sets it up: a copy of the source tree
at $SRC/slotheap (tracked and untracked files, not build/), build.sh copied to $SRC/build.sh and
run from the source tree, $OUT and $WORK empty, and CC, CXX, CFLAGS, CXXFLAGS,
LIB_FUZZING_ENGINE, SANITIZER, FUZZING_ENGINE and ARCHITECTURE set as OSS-Fuzz's compile step
sets them for the combination (the sanitizer flag sets are OSS-Fuzz's own). Combinations:

  libfuzzer-address    clang, -fsanitize=address + fuzzer-no-link, -fsanitize=fuzzer
  libfuzzer-undefined  clang, OSS-Fuzz's UBSan check list
  libfuzzer-memory     clang, -fsanitize=memory (only when clang's MSan runtime works here)
  afl-address          afl-clang-fast, ASan, AFL++'s libAFLDriver.a (Debian's afl++ package)
  libfuzzer-coverage   clang source-based coverage, the build OSS-Fuzz's coverage job uses

For each, every target must be in $OUT with <target>_seed_corpus.zip, <target>.dict and
<target>.options; then every target runs on its unpacked seed zip: libFuzzer builds for RUNS
executions (-runs, fixed -seed), the AFL++ build under afl-fuzz for about RUNS executions
(-E), the coverage build over the seeds, whose profile must show core/ lines executed.

    ci/cflite-sim.py [--runs N] [--only COMBO,...] [--keep] WORKDIR
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BASE_CFLAGS = "-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
UBSAN_CHECKS = ("array-bounds,bool,builtin,enum,float-divide-by-zero,function,"
                "integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,"
                "signed-integer-overflow,unreachable,vla-bound,vptr")
SAN_FLAGS = {
    "address": "-fsanitize=address -fsanitize-address-use-after-scope",
    "undefined": "-fsanitize=%s,unsigned-integer-overflow -fno-sanitize-recover=%s"
    % (UBSAN_CHECKS, UBSAN_CHECKS),
    "memory": "-fsanitize=memory -fsanitize-memory-track-origins",
    "coverage": "-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed "
    "-Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument",
}
RUN_ENV = {
    "ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1:symbolize=1",
    "UBSAN_OPTIONS": "silence_unsigned_overflow=1:halt_on_error=1:print_stacktrace=1",
    "MSAN_OPTIONS": "halt_on_error=1:print_stats=0",
}
AFL_DRIVER = "/usr/lib/afl/libAFLDriver.a"


def which(p):
    return shutil.which(p) is not None


def msan_works(work):
    src = os.path.join(work, "msan-probe.c")
    exe = os.path.join(work, "msan-probe")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    r = subprocess.run(["clang", "-fsanitize=memory", src, "-o", exe],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0 and subprocess.run([exe]).returncode == 0


def combos(work):
    """(name, env, runnable-or-reason) for each combination of the contract."""
    out = []
    for san in ("address", "undefined", "memory"):
        env = {"CC": "clang", "CXX": "clang++", "SANITIZER": san, "FUZZING_ENGINE": "libfuzzer",
               "CFLAGS": "%s %s -fsanitize=fuzzer-no-link" % (BASE_CFLAGS, SAN_FLAGS[san]),
               "LIB_FUZZING_ENGINE": "-fsanitize=fuzzer"}
        why = None
        if not which("clang") or not which("clang++"):
            why = "clang/clang++ not installed"
        elif san == "memory" and not msan_works(work):
            why = "clang's MSan runtime is not installed"
        out.append(("libfuzzer-" + san, env, why))
    env = {"CC": "afl-clang-fast", "CXX": "afl-clang-fast++", "SANITIZER": "address",
           "FUZZING_ENGINE": "afl", "CFLAGS": "%s %s" % (BASE_CFLAGS, SAN_FLAGS["address"]),
           "LIB_FUZZING_ENGINE": AFL_DRIVER}
    why = None
    if not which("afl-clang-fast") or not which("afl-fuzz"):
        why = "AFL++ not installed"
    elif not os.path.exists(AFL_DRIVER):
        why = AFL_DRIVER + " missing"
    out.append(("afl-address", env, why))
    env = {"CC": "clang", "CXX": "clang++", "SANITIZER": "coverage", "FUZZING_ENGINE": "libfuzzer",
           "CFLAGS": "%s %s" % (BASE_CFLAGS, SAN_FLAGS["coverage"]),
           "LIB_FUZZING_ENGINE": "-fsanitize=fuzzer"}
    out.append(("libfuzzer-coverage", env, None if which("llvm-profdata") else
                "llvm-profdata not installed"))
    for _, env, _ in out:
        env["CXXFLAGS"] = env["CFLAGS"]
        env["ARCHITECTURE"] = "x86_64"
    return out


def fuzz_targets():
    names = []
    for f in sorted(glob.glob(os.path.join(ROOT, "fuzz", "*.c"))):
        with open(f, encoding="utf-8") as fh:
            if re.search(r"^int LLVMFuzzerTestOneInput\(.*\)$", fh.read(), re.M):
                names.append(os.path.basename(f)[:-2])
    return names


def copy_sources(dst):
    files = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                           cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout.split(b"\0")
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue
        d = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(src, d)


def run(cmd, env, cwd, log, timeout):
    with open(log, "w") as f:
        try:
            return subprocess.run(cmd, env=env, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write("\n[timed out after %d s]\n" % timeout)
            return 124


def exercise(name, env, out, work, target, runs):
    """Runs one built target on its seed zip; returns (ok, executions or note)."""
    seeds = os.path.join(work, "run-" + target, "seeds")
    shutil.rmtree(os.path.dirname(seeds), ignore_errors=True)
    os.makedirs(seeds)
    with zipfile.ZipFile(os.path.join(out, target + "_seed_corpus.zip")) as z:
        z.extractall(seeds)
        nseeds = len(z.namelist())
    log = os.path.join(work, "run-" + target, "run.log")
    exe = os.path.join(out, target)
    renv = dict(os.environ, **RUN_ENV)
    opts = []
    with open(os.path.join(out, target + ".options")) as f:
        for line in f:
            m = re.match(r"^\s*(max_len|timeout|rss_limit_mb)\s*=\s*(\d+)", line)
            if m:
                opts.append("-%s=%s" % m.groups())
    if env["FUZZING_ENGINE"] == "afl":
        afl_out = os.path.join(work, "run-" + target, "afl")
        renv.update(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1", AFL_NO_AFFINITY="1",
                    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1", AFL_BENCH_UNTIL_CRASH="1",
                    AFL_NO_STARTUP_CALIBRATION="1",
                    # afl-fuzz insists on these (it symbolizes nothing itself).
                    ASAN_OPTIONS="abort_on_error=1:detect_leaks=0:symbolize=0")
        renv.pop("MSAN_OPTIONS", None)
        rc = run(["afl-fuzz", "-m", "none", "-t", "10000", "-E", str(runs), "-V", "120", "-s",
                  "1", "-x", os.path.join(out, target + ".dict"), "-i", seeds, "-o", afl_out,
                  "--", exe], renv, work, log, 300)
        stats = os.path.join(afl_out, "default", "fuzzer_stats")
        execs = crashes = 0
        if os.path.exists(stats):
            text = open(stats).read()
            execs = int(re.search(r"execs_done\s*:\s*(\d+)", text).group(1))
            crashes = int(re.search(r"saved_crashes\s*:\s*(\d+)", text).group(1))
        ok = rc == 0 and execs >= runs and crashes == 0
        return ok, "%d execs, %d crashes" % (execs, crashes), log
    if env["SANITIZER"] == "coverage":
        renv["LLVM_PROFILE_FILE"] = os.path.join(work, "run-" + target, "%p.profraw")
        rc = run([exe, "-runs=0"] + opts + [seeds], renv, work, log, 300)
        raws = glob.glob(os.path.join(work, "run-" + target, "*.profraw"))
        prof = os.path.join(work, "run-" + target, "cov.profdata")
        if rc != 0 or not raws or subprocess.run(
                ["llvm-profdata", "merge", "-sparse", *raws, "-o", prof]).returncode != 0:
            return False, "no profile", log
        rep = subprocess.run(["llvm-cov", "report", exe, "-instr-profile=" + prof],
                             stdout=subprocess.PIPE, text=True).stdout
        core = [ln for ln in rep.splitlines() if re.match(r"^\S*core/\S+\.c\s", ln)]
        covered = [ln for ln in core if ln.split()[7] != ln.split()[8]]
        ok = bool(core) and bool(covered)
        return ok, "%d seeds, %d core/ files executed" % (nseeds, len(covered)), log
    new = os.path.join(work, "run-" + target, "new")
    os.makedirs(new)
    rc = run([exe, "-runs=%d" % runs, "-seed=1", "-dict=" + os.path.join(out, target + ".dict")]
             + opts + [new, seeds], renv, work, log, 300)
    text = open(log, errors="replace").read()
    m = re.search(r"Done (\d+) runs", text)
    execs = int(m.group(1)) if m else 0
    return rc == 0 and execs >= runs, "%d execs" % execs, log


def main(argv):
    runs, only, keep, work = 500, None, False, None
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--only":
            only = args.pop(0).split(",")
        elif a == "--keep":
            keep = True
        else:
            work = os.path.abspath(a)
    if not work:
        print("usage: ci/cflite-sim.py [--runs N] [--only COMBO,...] [--keep] WORKDIR",
              file=sys.stderr)
        return 2
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    targets = fuzz_targets()
    rows = []
    failed = 0
    t_all = time.monotonic()
    for name, env, why in combos(work):
        if only and name not in only:
            continue
        if why:
            rows.append((name, "not built here: " + why, "", ""))
            print("cflite: %-20s skipped (%s)" % (name, why), flush=True)
            continue
        t0 = time.monotonic()
        base = os.path.join(work, name)
        src, out, wk = (os.path.join(base, d) for d in ("src", "out", "work"))
        for d in (out, wk):
            os.makedirs(d)
        copy_sources(os.path.join(src, "slotheap"))
        shutil.copy2(os.path.join(ROOT, ".clusterfuzzlite", "build.sh"), os.path.join(src,
                                                                                     "build.sh"))
        benv = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "LDFLAGS", "MAKEFLAGS")}
        benv.update(env, SRC=src, OUT=out, WORK=wk)
        print("cflite: %-20s building (%s)" % (name, " ".join(
            "%s=%s" % (k, env[k]) for k in ("CC", "SANITIZER", "FUZZING_ENGINE"))), flush=True)
        log = os.path.join(base, "build.log")
        rc = run(["bash", "-eu", os.path.join(src, "build.sh")], benv,
                 os.path.join(src, "slotheap"), log, 900)
        if rc != 0:
            print(open(log, errors="replace").read()[-3000:])
            rows.append((name, "FAILED: build.sh exit %d (%s)" % (rc, log), "", ""))
            failed += 1
            continue
        missing = [f for t in targets for f in (t, t + "_seed_corpus.zip", t + ".dict",
                                                t + ".options")
                   if not os.path.isfile(os.path.join(out, f))]
        missing += [t for t in targets if os.path.isfile(os.path.join(out, t))
                    and not os.access(os.path.join(out, t), os.X_OK)]
        if missing:
            rows.append((name, "FAILED: missing in $OUT: " + " ".join(missing), "", ""))
            failed += 1
            continue
        tb = time.monotonic() - t0
        notes = []
        ok_all = True
        for t in targets:
            ok, note, rlog = exercise(name, env, out, wk, t, runs)
            notes.append("%s %s%s" % (t, note, "" if ok else " FAILED (%s)" % rlog))
            if not ok:
                ok_all = False
                print(open(rlog, errors="replace").read()[-3000:])
        failed += not ok_all
        rows.append((name, "passed" if ok_all else "FAILED", "%.0fs build, %.0fs total" % (
            tb, time.monotonic() - t0), "; ".join(notes)))
        print("cflite: %-20s %s in %.0fs" % (name, rows[-1][1], time.monotonic() - t0), flush=True)
        if not keep:
            shutil.rmtree(src, ignore_errors=True)
            shutil.rmtree(wk, ignore_errors=True)
    print()
    print("check-cflite summary (%d targets each, %d runs; %s)" % (len(targets), runs, work))
    for name, res, t, notes in rows:
        print("  %-20s %-8s %s" % (name, res if len(res) < 9 else "", t))
        if len(res) >= 9:
            print("      " + res)
        if notes:
            for n in notes.split("; "):
                print("      " + n)
    print("check-cflite: %d combination(s) built and run, %d failed in %.0fs" % (
        sum(1 for r in rows if not r[1].startswith("not built")), failed,
        time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
