#!/usr/bin/env python3
"""make fuzz: a time-boxed differential fuzzing campaign over every fuzz target.

  make fuzz [FUZZ_SECONDS=180] [ENGINE=libfuzzer|afl] [JOBS=1] [TARGETS="a b"] [CORE_DIR=core]
            [LINEAR=1] [FUZZ_SEED=N]

Installs what it lacks (scripts/install-deps.sh fuzz), builds the targets for the engine and
for coverage, then fuzzes each target in turn for its share of FUZZ_SECONDS with JOBS workers
(libFuzzer -fork=JOBS, or one AFL++ main and JOBS-1 secondaries), starting from the seeds
(corpus/<target>/ and corpus/regressions/<target>-*) and the work corpus of earlier runs,
$FUZZ_WORK/<target>/corpus/, where new inputs are kept (never in git: see make corpus-merge).

Every figure is computed by this script, the same way for every engine and job count, for
the progress lines and the final table alike:
  seeds      seed files given to the engine
  start/end  distinct inputs (by content) in the seeds and the work corpus, before and after;
             new = end - start
  execs      calls of the target's entry point, counted by every process of the run in one
             shared counter (fuzz/counter/exec_counter.c)
  exec/s     execs over the run's wall time
  coverage   code regions of core/ and ref/ covered when the corpus is replayed through the
             coverage build ($FUZZ_O/cov), counted by llvm-cov, at the start and the end
A progress line is printed every FUZZ_PROGRESS seconds (10) and once more when the engine
stops; that last line and the table row carry the same figures. The table also goes to
$FUZZ_WORK/fuzz.csv. Anything found (crash, leak, timeout) is minimized and turned into
<min>, <min>.trace and <min>.report beside it; the script then exits 1 and says where.
"""
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

from fuzzopts import lf_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
E = os.environ
O = E.get("O", "build")
CORE_DIR = E.get("CORE_DIR", "core").rstrip("/")
LINEAR = E.get("LINEAR", "0")
TAG = CORE_DIR.replace("/", "_") + ("-linear" if LINEAR == "1" else "")
FUZZ_O = E.get("FUZZ_O") or os.path.join(O, "fuzz", TAG)
FUZZ_WORK = E.get("FUZZ_WORK") or os.path.join(O, "fuzz-work", TAG)
MAKE = E.get("MAKE", "make")
SH_TRACE = E.get("SH_TRACE") or os.path.join(O, "sh-trace")
PROFDATA = E.get("LLVM_PROFDATA") or shutil.which("llvm-profdata") or "llvm-profdata-14"
LLVMCOV = E.get("LLVM_COV") or shutil.which("llvm-cov") or "llvm-cov-14"
SKIP = (".trace", ".md", ".txt", ".svg", ".report", ".log")


def die(msg, status=2):
    print("fuzz: " + msg, file=sys.stderr)
    sys.exit(status)


def int_env(name, default, low):
    v = E.get(name, "") or str(default)
    if not v.isdigit() or int(v) < low:
        die("%s must be a whole number of at least %d, not '%s'" % (name, low, v))
    return int(v)


def all_targets():
    pat = re.compile(r"^int LLVMFuzzerTestOneInput\(.*\)$", re.M)
    return sorted(f[:-2] for f in os.listdir("fuzz")
                  if f.endswith(".c") and pat.search(open(os.path.join("fuzz", f)).read()))


def files_in(d):
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if not f.startswith(".") and not f.endswith(SKIP) and not f.startswith("README")
            and os.path.isfile(os.path.join(d, f))]




class Hashes:
    """Content hashes of files, cached by path, size and modification time."""

    def __init__(self):
        self.cache = {}

    def of(self, path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_size, st.st_mtime_ns)
        h = self.cache.get(key)
        if h is None:
            with open(path, "rb") as fh:
                h = hashlib.sha1(fh.read()).hexdigest()
            self.cache[key] = h
        return h


class Coverage:
    """Regions of core/ and ref/ covered by the inputs replayed so far through the coverage
    build; each input is replayed once, profiles are merged as they come."""

    def __init__(self, t, work):
        self.bin = os.path.join(FUZZ_O, "cov", "bin", t)
        self.dir = os.path.join(work, "cov")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "raw"))
        self.profdata = os.path.join(self.dir, "all.profdata")
        self.done = set()
        self.srcs = sorted(
            [os.path.join(CORE_DIR, f) for f in os.listdir(CORE_DIR) if f.endswith(".c")] +
            [os.path.join("ref", f) for f in os.listdir("ref") if f.endswith(".c")])
        self.figure = None

    def restart(self):
        """Forgets what was replayed: the engines delete inputs that later ones make redundant
        (libFuzzer's input reduction), so the final figure is that of the final corpus alone,
        replayed afresh, not of everything the progress lines ever counted."""
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "raw"))
        self.done = set()
        self.figure = None

    def update(self, paths, hashes):
        new = []
        for p in paths:
            h = hashes.of(p)
            if h is not None and h not in self.done:
                self.done.add(h)
                new.append(p)
        if not new and self.figure is not None:
            return self.figure
        raw = os.path.join(self.dir, "raw")
        env = dict(E, LLVM_PROFILE_FILE=os.path.join(raw, "%p.profraw"))
        for i in range(0, len(new), 400):
            subprocess.run([self.bin, "-q", "-t", "10"] + new[i:i + 400], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        raws = [os.path.join(raw, f) for f in os.listdir(raw)]
        if raws:
            prev = [self.profdata] if os.path.exists(self.profdata) else []
            tmp = self.profdata + ".tmp"
            r = subprocess.run([PROFDATA, "merge", "-sparse", "-o", tmp] + prev + raws,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                die("llvm-profdata merge failed: " + r.stderr.strip()[-300:], 1)
            os.replace(tmp, self.profdata)
            for f in raws:
                os.remove(f)
        if not os.path.exists(self.profdata):
            self.figure = (0, 0)
            return self.figure
        r = subprocess.run([LLVMCOV, "export", "-summary-only", "-instr-profile=" + self.profdata,
                            self.bin] + self.srcs, capture_output=True, text=True)
        if r.returncode != 0:
            die("llvm-cov export failed: " + r.stderr.strip()[-300:], 1)
        regions = json.loads(r.stdout)["data"][0]["totals"]["regions"]
        self.figure = (regions["covered"], regions["count"])
        return self.figure


def cov_text(c):
    return "%d/%d" % c if c and c[1] else "-"


class Run:
    """One target's run: the engine process(es) and the figures."""

    def __init__(self, t, engine, jobs, secs, seed):
        self.t, self.engine, self.jobs, self.secs = t, engine, jobs, secs
        self.work = os.path.join(FUZZ_WORK, t)
        self.corpus = os.path.join(self.work, "corpus")
        self.seeds = os.path.join(self.work, "seeds")
        self.crashes = os.path.join(self.work, "crashes")
        self.afl = os.path.join(self.work, "afl")
        self.bin = os.path.join(FUZZ_O, engine, "bin", t)
        self.counter = os.path.join(self.work, "execs.counter")
        self.log = os.path.join(self.work, "fuzz.log")
        self.seed = seed
        self.hashes = Hashes()
        self.procs = []
        for d in (self.corpus, self.crashes):
            os.makedirs(d, exist_ok=True)
        shutil.rmtree(self.seeds, ignore_errors=True)
        os.makedirs(self.seeds)
        srcs = files_in(os.path.join("corpus", t))
        srcs += [f for f in files_in("corpus/regressions")
                 if os.path.basename(f).startswith(t + "-")]
        for f in srcs:
            shutil.copyfile(f, os.path.join(self.seeds, os.path.basename(f)))
        if not srcs:
            with open(os.path.join(self.seeds, "empty"), "wb") as fh:
                fh.write(b"\0")
        self.nseeds = len(srcs)

    def inputs(self):
        """Every input of the run's corpus: seeds, work corpus, AFL++ queues."""
        out = files_in(self.seeds) + files_in(self.corpus)
        if self.engine == "afl" and os.path.isdir(self.afl):
            for inst in sorted(os.listdir(self.afl)):
                out += [f for f in files_in(os.path.join(self.afl, inst, "queue"))
                        if os.path.basename(f).startswith("id:")]
        return out

    def corpus_size(self, paths):
        return len({h for h in (self.hashes.of(p) for p in paths) if h is not None})

    def execs(self):
        try:
            with open(self.counter, "rb") as fh:
                return int.from_bytes(fh.read(8), "little")
        except OSError:
            return 0

    def start(self):
        with open(self.counter, "wb") as fh:
            fh.write(bytes(8))
        env = dict(E, SH_FUZZ_EXEC_COUNTER=os.path.abspath(self.counter))
        dict_ = os.path.join("fuzz", self.t + ".dict")
        logf = open(self.log, "w")
        if self.engine == "libfuzzer":
            args = [self.bin, "-max_total_time=%d" % self.secs, "-timeout=10",
                    "-rss_limit_mb=2048", "-artifact_prefix=" + self.crashes + "/"]
            args += lf_options(self.t)
            if os.path.exists(dict_):
                args.append("-dict=" + dict_)
            if self.jobs > 1:
                args.append("-fork=%d" % self.jobs)
            if self.seed is not None:
                args.append("-seed=%d" % self.seed)
            self.procs.append(subprocess.Popen(args + [self.corpus, self.seeds], stdout=logf,
                                               stderr=subprocess.STDOUT, env=env))
        else:
            shutil.rmtree(self.afl, ignore_errors=True)
            start_dir = os.path.join(self.work, "afl-in")
            shutil.rmtree(start_dir, ignore_errors=True)
            os.makedirs(start_dir)
            seen = set()
            for p in files_in(self.seeds) + files_in(self.corpus):
                h = self.hashes.of(p)
                if h not in seen:
                    seen.add(h)
                    shutil.copyfile(p, os.path.join(start_dir, h))
            env.update(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1", AFL_NO_AFFINITY="1",
                       AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1")
            base = ["afl-fuzz", "-m", "none", "-t", "10000", "-V", str(self.secs),
                    "-i", start_dir, "-o", self.afl]
            if os.path.exists(dict_):
                base += ["-x", dict_]
            if self.seed is not None:
                base += ["-s", str(self.seed)]
            for j in range(self.jobs):
                role = ["-M", "main"] if j == 0 else ["-S", "s%d" % j]
                out = logf if j == 0 else open(os.path.join(self.work, "afl-s%d.log" % j), "w")
                self.procs.append(subprocess.Popen(base + role + ["--", self.bin], stdout=out,
                                                   stderr=subprocess.STDOUT, env=env))
        self.t0 = time.time()

    def running(self):
        return any(p.poll() is None for p in self.procs)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.wall = max(time.time() - self.t0, 0.001)
        return self.procs[0].returncode

    def keep_afl_queue(self):
        """AFL++'s new inputs join the work corpus, named by content as libFuzzer names them."""
        for p in self.inputs():
            if os.path.dirname(os.path.dirname(p)).startswith(self.afl):
                dst = os.path.join(self.corpus, self.hashes.of(p))
                if not os.path.exists(dst):
                    shutil.copyfile(p, dst)

    def findings(self):
        out = []
        for f in files_in(self.crashes):
            b = os.path.basename(f)
            if not b.startswith("min-") and os.stat(f).st_mtime >= self.t0 - 1:
                out.append(f)
        if self.engine == "afl" and os.path.isdir(self.afl):
            for inst in sorted(os.listdir(self.afl)):
                for kind in ("crashes", "hangs"):
                    for f in files_in(os.path.join(self.afl, inst, kind)):
                        b = os.path.basename(f)
                        if b.startswith("id:"):
                            dst = os.path.join(self.crashes, "%s-%s" % (
                                inst, b.replace(":", "_").replace(",", "_")))
                            shutil.copyfile(f, dst)
                            out.append(dst)
        return out


def progress_line(t, el, secs, execs, wall, start, end, cov, cov_at, final=False):
    return ("%-18s %4ds/%ds  execs %-10d exec/s %-7d corpus %d -> %d (+%d)  coverage %s%s" % (
        t, el, secs, execs, int(execs / wall) if wall > 0 else 0, start, end, end - start,
        cov_text(cov), " (final)" if final else " (at %ds)" % cov_at))


def to_trace(t, src, dst):
    with open(dst, "w") as out:
        if t in ("ops_differential", "boot_differential"):
            args = [SH_TRACE, "text"] + (["--boot"] if t == "boot_differential" else []) + [src]
            subprocess.run(args, stdout=out, stderr=subprocess.STDOUT)
        else:
            memmap = os.path.join(O, "sh-memmap")
            if t == "memmap_parse" and subprocess.run(
                    [MAKE, "--no-print-directory", "-s", "O=" + O, memmap],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                r = subprocess.run([memmap, src, "--raw"], capture_output=True, text=True)
                out.write("".join("# " + l + "\n" for l in (r.stdout + r.stderr).splitlines()))
            r = subprocess.run(["od", "-A", "x", "-t", "x1z", "-v", src], capture_output=True,
                               text=True)
            out.write("".join("# " + l + "\n" for l in r.stdout.splitlines()))


def minimize(t, crash, bin_, engine):
    """Writes <min>, <min>.trace and <min>.report beside the finding; returns <min>."""
    with open(crash, "rb") as fh:
        min_ = os.path.join(os.path.dirname(crash),
                            "min-" + hashlib.sha1(fh.read()).hexdigest()[:12])
    with open(min_ + ".log", "w") as log:
        try:
            if engine == "afl":
                subprocess.run(["afl-tmin", "-m", "none", "-i", crash, "-o", min_, "--", bin_],
                               stdout=log, stderr=subprocess.STDOUT, timeout=120,
                               env=dict(E, AFL_SKIP_CPUFREQ="1"))
            else:
                subprocess.run([bin_, "-minimize_crash=1", "-max_total_time=15",
                                "-exact_artifact_path=" + min_, crash], stdout=log,
                               stderr=subprocess.STDOUT, timeout=120)
        except subprocess.TimeoutExpired:
            pass
    if not os.path.exists(min_):
        shutil.copyfile(crash, min_)
    to_trace(t, min_, min_ + ".trace")
    # The replay program's failure block: "input: <path>", the report, "FAIL <path>: <why>".
    r = subprocess.run([os.path.join(FUZZ_O, "replay", "bin", t), "-q", min_],
                       capture_output=True, text=True, errors="replace")
    with open(min_ + ".report", "w") as fh:
        fh.write("".join(l + "\n" for l in (r.stdout + r.stderr).splitlines()
                         if not re.match(r"^[a-z_]+: \d+ passed, \d+ failed$", l)))
    return min_


def main():
    engine = E.get("ENGINE", "libfuzzer")
    if engine not in ("libfuzzer", "afl"):
        die("ENGINE must be libfuzzer or afl, not '%s'" % engine)
    jobs = int_env("JOBS", 1, 1)
    total = int_env("FUZZ_SECONDS", 180, 1)
    every = int_env("FUZZ_PROGRESS", 10, 1)
    nmin_max = int_env("FUZZ_MINIMIZE", 3, 0)
    seed = int_env("FUZZ_SEED", 0, 0) if E.get("FUZZ_SEED") else None
    known = all_targets()
    targets = E.get("FUZZ_TARGETS", "").split() or known
    for t in targets:
        if t not in known:
            die("no fuzz target '%s' (targets: %s)" % (t, " ".join(known)))
    if subprocess.run(["bash", "scripts/install-deps.sh", "base", "fuzz"]).returncode != 0:
        sys.exit(1)
    os.makedirs(FUZZ_WORK, exist_ok=True)
    build_log = os.path.join(FUZZ_WORK, "build.log")
    print("fuzz: building %s targets from %s/%s (log: %s)" % (
        engine, CORE_DIR, " with SH_LINEAR=1" if LINEAR == "1" else "", build_log), flush=True)
    bins = [os.path.join(FUZZ_O, k, "bin", t) for t in targets
            for k in (engine, "replay", "cov")]
    with open(build_log, "w") as log:
        # Build variables the Makefile passes on (TINY: fault injection, HARDEN: caller-bug
        # detection, where they exist).
        extra = [v + "=" + E[v] for v in ("TINY", "HARDEN") if E.get(v)]
        r = subprocess.run([MAKE, "--no-print-directory", "O=" + O, "CORE_DIR=" + CORE_DIR,
                            "LINEAR=" + LINEAR] + extra + bins + ["sh-trace"], stdout=log,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(open(build_log).read()[-3000:])
        die("build failed", 1)
    per = max(total // len(targets), 5)
    print("fuzz: %d target(s), %ds each, engine %s, %d job(s)%s" % (
        len(targets), per, engine, jobs, "" if seed is None else ", seed %d" % seed))
    tty = sys.stdout.isatty()
    rows, found = [], []
    t_all = time.time()
    for t in targets:
        run = Run(t, engine, jobs, per, seed)
        cov = Coverage(t, run.work)
        start_inputs = run.inputs()
        start = run.corpus_size(start_inputs)
        cov_start = cov.update(start_inputs, run.hashes)
        run.start()
        last_print, last_cov = 0.0, 0.0
        cov_now, cov_at = cov_start, 0
        while run.running():
            time.sleep(1)
            el = time.time() - run.t0
            if el > per + 120:
                print("fuzz: %s still running %ds after its time; stopping it" % (t, el - per))
                break
            if el - last_print < (2 if tty else every) or not run.running():
                continue
            paths = run.inputs()
            if el - last_cov >= every:
                cov_now, cov_at, last_cov = cov.update(paths, run.hashes), int(el), el
            line = progress_line(t, int(el), per, run.execs(), el, start,
                                 run.corpus_size(paths), cov_now, cov_at)
            print(("\r" + line + " ") if tty else line, end="" if tty else "\n", flush=True)
            last_print = el
        rc = run.stop()
        if tty:
            print()
        if engine == "afl":
            run.keep_afl_queue()
        paths = run.inputs()
        execs, end = run.execs(), run.corpus_size(paths)
        cov.restart()
        cov_end = cov.update(paths, run.hashes)
        print(progress_line(t, int(run.wall), per, execs, run.wall, start, end,
                            cov_end, 0, final=True), flush=True)
        finds = run.findings()
        if rc not in (0, None) and not finds:
            print("fuzz: %s exited with status %s and left no input; see %s" % (
                t, rc, run.log), file=sys.stderr)
            found.append("%s: exit status %s, see %s" % (t, rc, run.log))
        for i, f in enumerate(finds[:nmin_max]):
            print("fuzz: %s found %s after %ds; minimizing" % (
                t, os.path.basename(f), os.stat(f).st_mtime - run.t0), flush=True)
            m = minimize(t, f, run.bin, engine)
            found.append("%s: %s (trace %s.trace, report %s.report)" % (t, m, m, m))
            for line in open(m + ".report", errors="replace"):
                if re.match(r"^invariant:|.*ERROR: (Address|Undefined)Sanitizer|.*runtime error",
                            line):
                    print("    " + line.rstrip())
                    break
        if len(finds) > nmin_max:
            found.append("%s: %d more input(s) in %s/, not minimized" % (
                t, len(finds) - nmin_max, run.crashes))
        rows.append(dict(target=t, engine=engine, jobs=jobs, seconds="%.1f" % run.wall,
                         seeds=run.nseeds, corpus_start=start, corpus_end=end,
                         new=end - start, execs=execs, execs_per_s=int(execs / run.wall),
                         coverage_start=cov_text(cov_start), coverage_end=cov_text(cov_end),
                         findings=len(finds)))
    with open(os.path.join(FUZZ_WORK, "fuzz.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    print()
    print("fuzz summary (%s, %d job(s), %ds, core from %s/, work dir %s)" % (
        engine, jobs, time.time() - t_all, CORE_DIR, FUZZ_WORK))
    fmt = "%-18s %6s %6s %6s %6s %6s %11s %8s  %-11s %-11s %5s"
    print(fmt % ("target", "secs", "seeds", "start", "end", "new", "execs", "exec/s",
                 "cov start", "cov end", "finds"))
    for r in rows:
        print(fmt % (r["target"], r["seconds"], r["seeds"], r["corpus_start"], r["corpus_end"],
                     "+%d" % r["new"], r["execs"], r["execs_per_s"], r["coverage_start"],
                     r["coverage_end"], r["findings"]))
    print("  corpus: distinct inputs in seeds and work corpus; execs: entry-point calls of every")
    print("  process; exec/s: execs over wall time; cov: regions of %s/ and ref/ covered by" %
          CORE_DIR)
    print("  the corpus replayed through %s/cov (CSV: %s/fuzz.csv)" % (FUZZ_O, FUZZ_WORK))
    if found:
        print()
        print("fuzz: FOUND %d problem(s):" % len(found))
        for f in found:
            print("  " + f)
        print("fuzz: read the .trace and .report beside each input; add one to the regression "
              "corpus")
        print("      with: make triage CRASH=<input> TARGET=<target>")
        return 1
    print("fuzz: nothing found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
