#!/usr/bin/env python3
"""Real programs on slotheap: each workload runs under glibc's malloc and again with
LD_PRELOAD=libslotheap-preload.so, and must give byte-identical output with every process's
at-exit sh_check clean and no misuse reported.

    scripts/preload-check.py --lib build/libslotheap-preload.so --work build/preload/work
    scripts/preload-check.py ... --bench 5      wall time, CPU time and peak RSS, medians of 5
                                                runs each (CPU time: user + system of the
                                                whole process tree; peak RSS: its largest
                                                process)
    scripts/preload-check.py ... --only sort,xz

Workloads (inputs generated here from fixed seeds, so every run sees the same bytes):
  python3  /usr/bin/python3 with PYTHONMALLOC=malloc (every object through malloc) builds
           80,000 records, sorts them three ways, groups them, prints digests
  sort     GNU sort (LC_ALL=C, --parallel=2, 2 threads) over 200,000 generated lines
  gcc      gcc -O2 -g compiles core/*.c to objects (compared byte for byte) and links a
           generated 120-function program, which then runs (its output compared)
  sqlite3  sqlite3 in memory: 60,000 rows from a recursive CTE, indexes, joins, window
           functions, group by, order by
  xz       xz -T2 (two threads) compresses the sort input in 1 MiB blocks, then decompresses
           it; both outputs compared

The slotheap runs check the heap (sh_check) every CHECK_EVERY calls in every process and at
its exit. Reports from the library go to a log per run (SLOTHEAP_LOG); a failed check, a
misuse line, or fewer clean exit checks than programs started fails the workload. Exit status 1 on any failure.
"""
import argparse
import hashlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261206
LINES = 200000
FUNCS = 120
# sh_check runs every this many allocator calls in each process, and at its exit.
CHECK_EVERY = 200000

PY_SCRIPT = r'''
import hashlib, random
rng = random.Random(%(seed)d)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
         for _ in range(5000)]
recs = []
for i in range(80000):
    recs.append({"id": i, "name": rng.choice(words) + str(rng.randint(0, 999)),
                 "score": rng.random(), "tags": [rng.choice(words) for _ in range(rng.randint(0, 4))],
                 "pair": (rng.randint(-1000, 1000), rng.choice(words))})
def digest(seq):
    h = hashlib.sha256()
    for x in seq:
        h.update(repr(x).encode())
    return h.hexdigest()[:16]
by_name = sorted(recs, key=lambda r: (r["name"], r["id"]))
by_score = sorted(recs, key=lambda r: r["score"], reverse=True)
by_pair = sorted(recs, key=lambda r: (r["pair"], len(r["tags"]), r["id"]))
groups = {}
for r in recs:
    for t in r["tags"]:
        groups.setdefault(t, []).append(r["id"])
big = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]
text = " ".join(r["name"] for r in by_name[:20000])
print("records", len(recs))
print("by_name", digest(r["id"] for r in by_name))
print("by_score", digest(r["id"] for r in by_score))
print("by_pair", digest(r["id"] for r in by_pair))
print("groups", len(groups), [(k, len(v)) for k, v in big[:3]])
print("text", len(text), hashlib.sha256(text.encode()).hexdigest()[:16])
print("set", len(set(r["name"] for r in recs)))
'''

SQL_SCRIPT = r'''
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, blob BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60000)
INSERT INTO t SELECT i, (i * 7919) %% 997, printf('n%%08d', (i * 104729) %% 1000003),
    ((i * 6007) %% 10007) / 3.0, zeroblob((i %% 50) * 10) FROM c;
CREATE INDEX t_grp ON t(grp, val);
CREATE INDEX t_name ON t(name);
CREATE TABLE g(grp INTEGER PRIMARY KEY, label TEXT);
INSERT INTO g SELECT DISTINCT grp, 'group-' || grp FROM t;
SELECT count(*), sum(val), min(name), max(name), sum(length(blob)) FROM t;
SELECT g.label, count(*), round(avg(t.val), 4) FROM t JOIN g USING (grp)
    GROUP BY g.label ORDER BY count(*) DESC, g.label LIMIT 10;
SELECT name, val, rank() OVER (PARTITION BY grp ORDER BY val DESC, id) AS r FROM t
    WHERE grp < 3 ORDER BY grp, r LIMIT 20;
SELECT group_concat(name, ',') FROM (SELECT name FROM t ORDER BY name DESC LIMIT 200);
UPDATE t SET name = name || '-x', blob = zeroblob(700) WHERE id %% 5 = 0;
DELETE FROM t WHERE id %% 7 = 0;
SELECT count(*), sum(length(name)), sum(length(blob)) FROM t;
SELECT a.grp, count(*) FROM t a JOIN t b ON a.id = b.id - 1 AND a.grp = b.grp
    GROUP BY a.grp ORDER BY 2 DESC, 1 LIMIT 5;
VACUUM;
SELECT count(*) FROM t WHERE name LIKE 'n0001%%';
'''


def gen_lines(path, n, seed):
    """n lines of words and numbers from a fixed-seed generator (about 40 bytes each)."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(20000)]
    with open(path, "w") as f:
        for i in range(n):
            f.write("%s %d %s %08x\n" % (rng.choice(words), rng.randint(0, 10 ** 6),
                                         rng.choice(words), rng.getrandbits(32)))


def gen_c_program(path, nfuncs, seed):
    """A C program of nfuncs functions (loops, switches, arrays) whose main prints a digest."""
    rng = random.Random(seed)
    out = ["#include <stdio.h>", "#include <stdint.h>", "#include <string.h>", ""]
    for i in range(nfuncs):
        a, b, c = rng.randint(1, 97), rng.randint(1, 31), rng.randint(3, 17)
        out.append("static uint32_t f%d(uint32_t x)\n{" % i)
        out.append("\tuint32_t acc[%d];\n\tmemset(acc, 0, sizeof(acc));" % c)
        out.append("\tfor (uint32_t k = 0; k < %d; k++) {" % (c * 3))
        out.append("\t\tswitch ((x + k) %% %d) {" % (c))
        for j in range(c):
            out.append("\t\tcase %d: acc[%d] += x * %du + k; x ^= x >> %d; break;"
                       % (j, (j * 5) % c, rng.randint(1, 1 << 20), rng.randint(1, 15)))
        out.append("\t\tdefault: break;\n\t\t}")
        out.append("\t\tx = x * %du + %du;\n\t}" % (a * 2 + 1, b))
        out.append("\tuint32_t s = 0;\n\tfor (int k = 0; k < %d; k++)\n\t\ts += acc[k] << (k & 7);" % c)
        if i:
            out.append("\treturn s ^ f%d(x >> 3);\n}\n" % rng.randint(0, i - 1)
                       if i % 3 == 0 else "\treturn s ^ x;\n}\n")
        else:
            out.append("\treturn s ^ x;\n}\n")
    out.append("int main(void)\n{\n\tuint32_t h = 2166136261u;")
    out.append("\tfor (uint32_t i = 0; i < 50; i++) {")
    for i in range(nfuncs):
        out.append("\t\th = (h ^ f%d(i + %d)) * 16777619u;" % (i, i))
    out.append("\t}\n\tprintf(\"%08x\\n\", h);\n\treturn 0;\n}")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def prepare(work):
    """Inputs shared by every run; regenerated only when missing."""
    inp = os.path.join(work, "inputs")
    os.makedirs(inp, exist_ok=True)
    stamp = os.path.join(inp, "seed-%d-lines-%d-funcs-%d" % (SEED, LINES, FUNCS))
    if not os.path.exists(stamp):
        for f in os.listdir(inp):
            os.unlink(os.path.join(inp, f))
        gen_lines(os.path.join(inp, "lines.txt"), LINES, SEED)
        gen_c_program(os.path.join(inp, "prog.c"), FUNCS, SEED)
        open(stamp, "w").close()
    with open(os.path.join(inp, "script.py"), "w") as f:
        f.write(PY_SCRIPT % {"seed": SEED})
    with open(os.path.join(inp, "script.sql"), "w") as f:
        f.write(SQL_SCRIPT.replace("%%", "%"))
    return inp


def workloads(inp):
    """name -> (steps, files compared). A step is (argv, stdout file name or None); steps run
    in a fresh directory, with {in} standing for the input directory."""
    core_srcs = sorted(os.path.join(ROOT, "core", f) for f in os.listdir(os.path.join(ROOT, "core"))
                       if f.endswith(".c"))
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
    return {
        "python3": ([([py, "{in}/script.py"], "out.txt")], ["out.txt"]),
        "sort": ([(["sort", "--parallel=2", "-S", "64M", "-k2,2n", "-k1,1", "{in}/lines.txt"],
                   "sorted.txt"),
                  (["sort", "-u", "-r", "{in}/lines.txt"], "unique.txt")],
                 ["sorted.txt", "unique.txt"]),
        "gcc": ([(["gcc", "-O2", "-g", "-I" + os.path.join(ROOT, "core"), "-c"] + core_srcs, None),
                 (["gcc", "-O2", "-o", "prog", "{in}/prog.c"], None),
                 (["./prog"], "prog.txt")],
                sorted(os.path.basename(s)[:-2] + ".o" for s in core_srcs) + ["prog", "prog.txt"]),
        "sqlite3": ([(["sqlite3", ":memory:", ".read {in}/script.sql"], "out.txt")], ["out.txt"]),
        "xz": ([(["xz", "-T2", "--block-size=1MiB", "-3", "-c", "{in}/lines.txt"], "lines.xz"),
                (["xz", "-T2", "-d", "-c", "lines.xz"], "lines.txt")],
               ["lines.xz", "lines.txt"]),
    }


def base_env():
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("SLOTHEAP_")}
    env.update(LC_ALL="C", PYTHONMALLOC="malloc", PYTHONHASHSEED="0", SOURCE_DATE_EPOCH="0")
    return env


def run_steps(steps, inp, dest, env):
    """Runs the steps in one fixed directory (compilers record it in debug information), then
    moves that directory to dest. Returns (wall seconds, CPU seconds (user + system, the
    process tree), peak RSS KiB of the largest process, error or None)."""
    cwd = os.path.join(os.path.dirname(os.path.dirname(dest)), "run")
    for d in (cwd, dest):
        if os.path.exists(d):
            shutil.rmtree(d)
    os.makedirs(cwd)
    try:
        return run_in(steps, inp, cwd, env)
    finally:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.rename(cwd, dest)


def run_in(steps, inp, cwd, env):
    total = cpu = 0.0
    peak = 0
    for argv, out in steps:
        argv = [a.replace("{in}", inp) for a in argv]
        with open(os.path.join(cwd, out) if out else os.devnull, "wb") as so, \
                open(os.path.join(cwd, "stderr.txt"), "ab") as se:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=so, stderr=se)
            _, status, ru = os.wait4(p.pid, 0)
            total += time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        peak = max(peak, ru.ru_maxrss)
        cpu += ru.ru_utime + ru.ru_stime
        if p.returncode != 0:
            with open(os.path.join(cwd, "stderr.txt"), errors="replace") as f:
                tail = f.read().strip().splitlines()[-1:]
            return total, cpu, peak, "%s exited with %d%s" % (os.path.basename(argv[0]), p.returncode,
                                                        (": " + tail[0]) if tail else "")
    return total, cpu, peak, None


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_log(path):
    """(processes with a clean exit check, problem lines, largest region count, sh_check
    runs in all processes)."""
    clean, problems, regions, checks = 0, [], 0, 0
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                if "exit check clean" in line:
                    clean += 1
                    try:
                        regions = max(regions, int(line.split(" calls, ")[1].split()[0]))
                        checks += int(line.split("exit check clean (")[1].split()[0])
                    except (IndexError, ValueError):
                        pass
                else:
                    problems.append(line.rstrip())
    return clean, problems, regions, checks


def check(args, inp, names, table):
    lib = os.path.abspath(args.lib)
    env_glibc = base_env()
    failed = 0
    for i, name in enumerate(names, 1):
        steps, compared = workloads(inp)[name]
        print("[%d/%d] %-8s glibc ..." % (i, len(names), name), end="", flush=True)
        d_glibc = os.path.join(args.work, "glibc", name)
        t_g, _, _, err = run_steps(steps, inp, d_glibc, env_glibc)
        if err:
            print(" FAILED under glibc: %s" % err)
            table.append((name, "%.1f" % t_g, "-", "-", "-", "-", "-", "glibc run failed"))
            failed += 1
            continue
        print(" %.1fs, slotheap ..." % t_g, end="", flush=True)
        d_sh = os.path.join(args.work, "slotheap", name)
        log = os.path.join(args.work, "slotheap", name + ".log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        if os.path.exists(log):
            os.unlink(log)
        env = dict(env_glibc, LD_PRELOAD=lib, SLOTHEAP_CHECK=str(CHECK_EVERY),
                   SLOTHEAP_LOG=os.path.abspath(log))
        t_s, _, _, err = run_steps(steps, inp, d_sh, env)
        clean, problems, regions, checks = read_log(log)
        diffs = [f for f in compared if not os.path.exists(os.path.join(d_sh, f)) or
                 file_digest(os.path.join(d_glibc, f)) != file_digest(os.path.join(d_sh, f))]
        verdict = "ok"
        if err:
            verdict = err
        elif diffs:
            verdict = "output differs: " + ", ".join(diffs)
        elif problems:
            verdict = "%d report(s): %s" % (len(problems), problems[0])
        elif clean < len(steps):
            # Every step's program, at least, must have printed its exit check.
            verdict = "%d clean exit check(s) for %d programs in %s" % (clean, len(steps), log)
        print(" %.1fs: %s" % (t_s, verdict))
        if verdict != "ok":
            failed += 1
            for line in problems[:10]:
                print("    " + line)
        table.append((name, "%.1f" % t_g, "%.1f" % t_s, "%d/%d" % (len(compared) - len(diffs),
                      len(compared)), str(clean), str(checks), str(regions), verdict))
    print()
    print("check-preload: summary (outputs identical to glibc's, exit checks clean)")
    print("  %-8s %8s %9s %8s %10s %7s %8s  %s" % ("program", "glibc s", "slotheap", "outputs",
                                                    "processes", "checks", "regions", "result"))
    for row in table:
        print("  %-8s %8s %9s %8s %10s %7s %8s  %s" % row)
    print("  (processes: clean exit checks; checks: sh_check runs, every %d calls and at exit, "
          "all clean;\n   regions: the most any one process mapped)" % CHECK_EVERY)
    print("check-preload: %d of %d workloads passed" % (len(names) - failed, len(names)))
    return failed == 0


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, platform.release())


def bench(args, inp, names):
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    lib = os.path.abspath(args.lib)
    env_glibc = base_env()
    env_sh = dict(env_glibc, LD_PRELOAD=lib)
    rows = []
    for i, name in enumerate(names, 1):
        steps, _ = workloads(inp)[name]
        res = {"glibc": ([], [], []), "slotheap": ([], [], [])}
        print("[%d/%d] %-8s" % (i, len(names), name), end="", flush=True)
        for r in range(args.bench):
            # Alternate, so that drift in the machine's load hits both alike.
            for which, env in (("glibc", env_glibc), ("slotheap", env_sh)):
                t, cpu, rss, err = run_steps(steps, inp,
                                             os.path.join(args.work, "bench", which, name), env)
                if err:
                    print(" FAILED (%s): %s" % (which, err))
                    return False
                res[which][0].append(t)
                res[which][1].append(rss)
                res[which][2].append(cpu)
            print(" .", end="", flush=True)
        tg, ts = statistics.median(res["glibc"][0]), statistics.median(res["slotheap"][0])
        mg, ms = statistics.median(res["glibc"][1]), statistics.median(res["slotheap"][1])
        cg, cs = statistics.median(res["glibc"][2]), statistics.median(res["slotheap"][2])
        rows.append((name, tg, ts, ts / tg, cg, cs, cs / cg, mg / 1024, ms / 1024, ms / mg))
        print(" wall %.2fs vs %.2fs, CPU %.2fs vs %.2fs, peak RSS %.1f vs %.1f MiB"
              % (tg, ts, cg, cs, mg / 1024, ms / 1024))
    print()
    print("preload-bench: medians of %d runs each, slotheap vs glibc malloc" % args.bench)
    print("  machine: %s; commit %s" % (machine(), commit or "?"))
    print("  reproduce: make preload-bench PRELOAD_RUNS=%d" % args.bench)
    print("  load average at the end: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
    print("  | program | wall glibc (s) | wall slotheap (s) | ratio | CPU glibc (s) "
          "| CPU slotheap (s) | ratio | peak RSS glibc (MiB) | peak RSS slotheap (MiB) | ratio |")
    print("  |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("  | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f |" % r)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="path of libslotheap-preload.so")
    ap.add_argument("--work", required=True, help="directory for inputs and outputs")
    ap.add_argument("--bench", type=int, default=0, metavar="RUNS",
                    help="measure wall time and peak RSS instead, RUNS runs each")
    ap.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    args = ap.parse_args()

    if not os.path.exists(args.lib):
        print("preload-check: %s does not exist (make preload)" % args.lib, file=sys.stderr)
        return 2
    args.work = os.path.abspath(args.work)
    inp = prepare(args.work)
    names = list(workloads(inp))
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in names]
        if unknown:
            print("preload-check: unknown workload(s) %s (have %s)"
                  % (", ".join(unknown), ", ".join(names)), file=sys.stderr)
            return 2
        names = wanted
    missing = [n for n in ("sort", "gcc", "sqlite3", "xz") if not shutil.which(n)]
    if missing:
        print("preload-check: missing programs %s (scripts/install-deps.sh preload)"
              % ", ".join(missing), file=sys.stderr)
        return 2
    if args.bench:
        if args.bench < 1:
            print("preload-check: --bench needs at least 1 run", file=sys.stderr)
            return 2
        return 0 if bench(args, inp, names) else 1
    return 0 if check(args, inp, names, []) else 1


if __name__ == "__main__":
    sys.exit(main())
