#!/usr/bin/env python3
"""Mutation testing of core/: do the deterministic tests and a short fuzz run notice when an
operator in the allocator is changed?

    scripts/mutation.py [--sample N] [--seed S] [--fuzz-seconds T] [--only FILE[,FILE]]
                        [--list] [--ids ID[,ID]]

Mutants (one change each, to one line of one core/*.c file):
  ror    relational operator: < <= > >= == != each replaced by its boundary neighbour
         (< and <=, > and >=) or its opposite (== and !=)
  aor    arithmetic: binary + and - swapped, += and -= swapped, ++ and -- swapped
  lcr    logical connector: && and || swapped
  crp    integer constant off by one: n -> n + 1 and n -> n - 1
  neg    negated condition: if (c) / while (c) -> if (!(c)) / while (!(c))
  sdl    statement deleted: an expression statement (assignment, call, ++/--) -> ;
  swp    swapped links: link[0] and link[1], below and above, L( and R(, NEXT( and PREV(
No maintained C mutation tool is packaged for Debian (Mull, Dextool and the like are not), so
this small generator does the job; it reads the C source as text, skipping comments, strings
and preprocessor lines.

Each mutant gets a stable id, file:operator:hash of (the line's text, the position of the
change among the line's candidates, the replacement): it survives edits elsewhere in the file.
fuzz/mutation-equivalent.txt lists ids judged equivalent (no test can tell them apart from
the original), each with its reason; they are not run and do not count.

Each mutant is written into a work copy ($O/mutation/work/core) and checked by a sub-make with
CORE_DIR/CORE_SRCS/INCLUDES pointing at it, in this order, stopping at the first that fails:
build (with -Wno-error, so that a mutant the compiler merely warns about is still run; one
that does not compile at all is "stillborn" and does not count), corpus replay, unit tests, soak, unit tests against the SH_LINEAR build, the
memory-table check (memory-table files only), then --fuzz-seconds of libFuzzer from the
committed corpus on each fuzz target whose corpus runs code of the mutated file (from
$O/bugs/reach/, written by make bugs; every target when absent). SH_LINEAR-only code
(freeset_linear.c) is checked by the SH_LINEAR steps only, the index (freeset_index.c) by the
others, caller-bug detection (harden.c) by check-unit and the SH_HARDEN steps (check-unit-harden,
check-replay-harden), without fuzzing. Every step has a time limit; a mutant that hangs a step is killed by it.

Score = killed / (killed + survived). Results: $O/mutation/mutants.csv and report.txt, with
every survivor as file:line and its diff. --sample N checks a random sample of N mutants
drawn with the fixed --seed (the same sample every night until the code changes).
"""
import argparse
import csv
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMMAP_FILES = {"memmap.c", "cbtable.c", "place.c", "boot.c"}
DECL_START = re.compile(
    r"^\s*(const\s+|static\s+|struct\s+\w+\s*\*?\s*\w+\s*[=;\[]|(unsigned|signed|int|char|"
    r"bool|void|size_t|uintptr_t|uint8_t|uint16_t|uint32_t|uint64_t|int32_t|int64_t|enum)\b)"
)
SKIP_STMT = re.compile(r"^\s*(return|break|continue|case|default|goto|else|do|for|if|while|"
                       r"switch)\b")


def code_mask(lines):
    """Per line: the text with comments and string/char contents blanked (same length), or
    None for preprocessor lines and lines inside block comments only."""
    out = []
    in_comment = False
    for line in lines:
        if not in_comment and line.lstrip().startswith("#"):
            out.append(None)
            continue
        m = []
        i = 0
        n = len(line)
        while i < n:
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    m.append(" " * (n - i))
                    i = n
                else:
                    m.append(" " * (j + 2 - i))
                    i = j + 2
                    in_comment = False
                continue
            c = line[i]
            if line.startswith("/*", i):
                in_comment = True
                continue
            if line.startswith("//", i):
                m.append(" " * (n - i))
                break
            if c in "\"'":
                j = i + 1
                while j < n and line[j] != c:
                    j += 2 if line[j] == "\\" else 1
                m.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
                i = j + 1
                continue
            m.append(c)
            i += 1
        s = "".join(m)
        out.append(s if s.strip() else None)
    return out


def matching_paren(s, i):
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def candidates(line, mask, fname):
    """(op, start, end, replacement) for every mutation of one line."""
    out = []
    # Relational operators.
    for m in re.finditer(r"<=|>=|==|!=|<|>", mask):
        a, b = m.start(), m.end()
        tok = m.group()
        prev = mask[a - 1] if a > 0 else " "
        nxt = mask[b] if b < len(mask) else " "
        if tok in ("<", ">") and (nxt in "<>=" or prev in "<>-"):
            continue
        if tok in ("<=", ">=") and (prev in "<>" or nxt == "="):
            continue
        rep = {"<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="],
               "!=": ["=="]}[tok]
        for r in rep:
            out.append(("ror", a, b, r))
    # Arithmetic.
    for m in re.finditer(r"\+\+|--|\+=|-=|\+|-", mask):
        a, b = m.start(), m.end()
        tok = m.group()
        nxt = mask[b] if b < len(mask) else " "
        prev = mask[a - 1] if a > 0 else " "
        if tok in ("+", "-"):
            if nxt in ">+-=" or prev in "+-":
                continue
            k = a - 1
            while k >= 0 and mask[k] == " ":
                k -= 1
            if k < 0 or not (mask[k].isalnum() or mask[k] in "_)]"):
                continue  # unary
            out.append(("aor", a, b, "-" if tok == "+" else "+"))
        elif tok in ("++", "--"):
            out.append(("aor", a, b, "--" if tok == "++" else "++"))
        else:
            out.append(("aor", a, b, "-=" if tok == "+=" else "+="))
    # Logical connectors.
    for m in re.finditer(r"&&|\|\|", mask):
        out.append(("lcr", m.start(), m.end(), "||" if m.group() == "&&" else "&&"))
    # Integer constants.
    for m in re.finditer(r"(?<![\w.])(0[xX][0-9a-fA-F]+|\d+)([uU]?[lL]{0,2})(?![\w.])", mask):
        if "[" in mask[: m.start()] and mask.rstrip().endswith(";") and \
                DECL_START.match(mask):
            continue  # array bound in a declaration
        v = int(m.group(1), 0)
        suf = m.group(2)
        fmt = (lambda x: hex(x)) if m.group(1).lower().startswith("0x") else str
        out.append(("crp", m.start(), m.end(), fmt(v + 1) + suf))
        if v > 0:
            out.append(("crp", m.start(), m.end(), fmt(v - 1) + suf))
    # Negated conditions.
    for m in re.finditer(r"\b(if|while)\s*\(", mask):
        a = m.end() - 1
        b = matching_paren(mask, a)
        if b < 0:
            continue
        out.append(("neg", a + 1, b, "!(" + line[a + 1:b] + ")"))
    # Statement deletion.
    st = mask.strip()
    if (st.endswith(";") and not SKIP_STMT.match(mask) and not DECL_START.match(mask)
            and "{" not in st and "}" not in st and st.count("(") == st.count(")")
            and st != ";" and (re.search(r"[^=!<>]=[^=]|\+\+|--|\w\s*\(", st))):
        a = len(line) - len(line.lstrip())
        b = line.rstrip().rfind(";") + 1
        out.append(("sdl", a, b, ";"))
    # Swapped links.
    swaps = [(r"link\[0\]", "link[1]"), (r"link\[1\]", "link[0]"), (r"\bbelow\b", "above"),
             (r"\babove\b", "below")]
    if fname == "freeset_linear.c":
        swaps += [(r"\bNEXT\(", "PREV("), (r"\bPREV\(", "NEXT(")]
    for pat, rep in swaps:
        for m in re.finditer(pat, mask):
            out.append(("swp", m.start(), m.end(), rep))
    return out


def enumerate_mutants(only):
    muts = []
    for fname in sorted(os.listdir(os.path.join(ROOT, "core"))):
        if not fname.endswith(".c") or (only and fname not in only):
            continue
        lines = open(os.path.join(ROOT, "core", fname)).read().split("\n")
        masks = code_mask(lines)
        seen_text = {}
        for ln, (line, mask) in enumerate(zip(lines, masks), 1):
            if mask is None:
                continue
            # The n-th line of the file with this text: identical lines get distinct ids.
            nth = seen_text.get(line.strip(), 0)
            seen_text[line.strip()] = nth + 1
            done = set()
            for k, (op, a, b, rep) in enumerate(sorted(candidates(line, mask, fname),
                                                       key=lambda c: (c[1], c[0], c[3]))):
                new = line[:a] + rep + line[b:]
                if new == line or new in done:
                    continue
                done.add(new)
                h = hashlib.sha1(f"{line.strip()}|{nth}|{k}|{rep}".encode()).hexdigest()[:10]
                muts.append({"id": f"{fname}:{op}:{h}", "file": fname, "line": ln, "op": op,
                             "old": line, "new": new})
    return muts


def load_equivalent():
    path = os.path.join(ROOT, "fuzz", "mutation-equivalent.txt")
    eq = {}
    if os.path.exists(path):
        for raw in open(path):
            raw = raw.strip()
            if not raw or raw.startswith("#"):
                continue
            parts = raw.split(None, 1)
            eq[parts[0]] = parts[1] if len(parts) > 1 else ""
    return eq


class Runner:
    def __init__(self, args):
        self.o = os.environ.get("O", "build")
        self.make = os.environ.get("MAKE", "make") or "make"
        self.root = os.path.join(self.o, "mutation")
        self.work = os.path.join(self.root, "work")
        self.core = os.path.join(self.work, "core")
        self.logs = os.path.join(self.root, "logs")
        self.args = args
        os.makedirs(self.logs, exist_ok=True)
        self.reset()

    def submake(self, *targets, log=None, timeout=None):
        srcs = " ".join(sorted(os.path.join(self.core, f) for f in os.listdir(self.core)
                               if f.endswith(".c")))
        cmd = [self.make, "--no-print-directory", "-s", "-j2", f"O={self.work}/o",
               f"CORE_DIR={self.core}", f"CORE_SRCS={srcs}",
               f"INCLUDES=-I{self.core} -Iref -Ifuzz", "CFLAGS=-Wno-error"] + list(targets)
        env = dict(os.environ)
        env.pop("MAKEFLAGS", None)
        env.pop("MAKELEVEL", None)
        with open(log or os.devnull, "w") as f:
            try:
                return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                      timeout=timeout, env=env).returncode
            except subprocess.TimeoutExpired:
                return "timeout"

    def reset(self):
        """Work copy := core/, changed files with a fresh time stamp (so make rebuilds)."""
        os.makedirs(self.core, exist_ok=True)
        src = os.path.join(ROOT, "core")
        for f in os.listdir(self.core):
            if not os.path.exists(os.path.join(src, f)):
                os.remove(os.path.join(self.core, f))
        for f in os.listdir(src):
            a, b = os.path.join(src, f), os.path.join(self.core, f)
            if not os.path.exists(b) or open(a, "rb").read() != open(b, "rb").read():
                shutil.copyfile(a, b)

    def print_info(self):
        out = subprocess.run([self.make, "--no-print-directory", "-s", f"O={self.work}/o",
                              f"CORE_DIR={self.core}", "bugs-print"], cwd=ROOT,
                             capture_output=True, text=True).stdout
        info = {}
        for line in out.splitlines():
            k, _, v = line.partition(" ")
            info[k] = v.split()
        return info


BUILD_ERROR = re.compile(r"^[^ :]+\.[ch]:\d+:\d+: (fatal )?error:|undefined reference to", re.M)
STEPS = ["check-replay", "check-unit", "check-soak", "check-unit-linear", "check-memmap"]
# Caller-bug detection (harden.c) is compiled out of the default build but for its ASan
# poisoning: its mutants are checked by the SH_HARDEN steps and check-unit's death tests.
HARDEN_STEPS = ["check-unit-harden", "check-replay-harden"]
NO_FUZZ = ("freeset_linear.c", "harden.c")


def steps_for(fname):
    if fname == "freeset_linear.c":
        return ["check-unit-linear", "check-soak"]
    if fname == "harden.c":
        return ["check-unit"] + HARDEN_STEPS
    s = [x for x in STEPS if not (x == "check-memmap" and fname not in MEMMAP_FILES)]
    if fname == "freeset_index.c":
        s.remove("check-unit-linear")
    return s


def reach(o, target, fname):
    p = os.path.join(o, "bugs", "reach", target + ".txt")
    if not os.path.exists(p) or os.path.getsize(p) == 0:
        return True
    return fname in open(p).read().split()


def fuzz_options(target):
    p = os.path.join(ROOT, "fuzz", target + ".options")
    opts = []
    if os.path.exists(p):
        sect = None
        for line in open(p):
            line = line.strip()
            if line.startswith("["):
                sect = line
            elif sect == "[libfuzzer]" and "=" in line:
                k, v = (x.strip() for x in line.split("=", 1))
                opts.append(f"-{k}={v}")
    d = os.path.join(ROOT, "fuzz", target + ".dict")
    if os.path.exists(d):
        opts.append(f"-dict={d}")
    return opts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=0, help="mutants to check (0: all)")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--fuzz-seconds", type=int, default=10)
    ap.add_argument("--only", default="", help="comma-separated core/*.c names")
    ap.add_argument("--ids", default="", help="comma-separated mutant ids to check")
    ap.add_argument("--list", action="store_true", help="print the mutants and stop")
    ap.add_argument("--min-score", type=float, default=0.0,
                    help="exit 1 when the score is below this percentage")
    args = ap.parse_args()
    os.chdir(ROOT)

    only = set(x for x in args.only.split(",") if x)
    muts = enumerate_mutants(only)
    by_op = {}
    for m in muts:
        by_op[m["op"]] = by_op.get(m["op"], 0) + 1
    print(f"mutation: {len(muts)} mutants in core/ "
          f"({', '.join(f'{k} {v}' for k, v in sorted(by_op.items()))})")
    if args.list:
        for m in muts:
            print(f"{m['id']}  {m['file']}:{m['line']}  {m['new'].strip()}")
        return 0
    if args.ids:
        want = set(args.ids.split(","))
        muts = [m for m in muts if m["id"] in want]
    elif args.sample and args.sample < len(muts):
        muts = sorted(random.Random(args.seed).sample(muts, args.sample),
                      key=lambda m: (m["file"], m["line"], m["id"]))
        print(f"mutation: checking a sample of {len(muts)} (seed {args.seed})")
    eq = load_equivalent()

    r = Runner(args)
    t0 = time.time()
    print("mutation: building the unmutated copy ... ", end="", flush=True)
    if r.submake("bugs-build", "STEPS=" + " ".join(STEPS + HARDEN_STEPS + ["fuzz"]),
                 log=os.path.join(r.logs, "baseline-build.log")) != 0:
        print(f"FAILED (log {r.logs}/baseline-build.log)")
        return 1
    info = r.print_info()
    base_time = {}
    broken = set()
    for s in STEPS + HARDEN_STEPS:
        ts = time.time()
        rc = r.submake(s, log=os.path.join(r.logs, f"baseline-{s}.log"), timeout=1800)
        base_time[s] = time.time() - ts
        if rc != 0:
            broken.add(s)
    print(f"done in {time.time() - t0:.0f}s" +
          (f"; left out, failing on the unmutated core: {' '.join(sorted(broken))}"
           if broken else ""))

    results = []
    counts = {"killed": 0, "survived": 0, "stillborn": 0, "equivalent": 0, "error": 0}
    for i, m in enumerate(muts, 1):
        tm = time.time()
        status, killer = None, ""
        if m["id"] in eq:
            status, killer = "equivalent", eq[m["id"]]
        else:
            r.reset()
            path = os.path.join(r.core, m["file"])
            lines = open(path).read().split("\n")
            lines[m["line"] - 1] = m["new"]
            open(path, "w").write("\n".join(lines))
            steps = [s for s in steps_for(m["file"]) if s not in broken]
            log = os.path.join(r.logs, "current.log")
            if r.submake("bugs-build", "STEPS=check-replay", log=log, timeout=600) != 0:
                status, killer = "stillborn", "does not compile"
            for s in steps if status is None else []:
                if s != "check-replay":
                    if r.submake("bugs-build", "STEPS=" + s, log=log, timeout=600) != 0:
                        status, killer = "stillborn", f"does not compile ({s})"
                        break
                rc = r.submake(s, log=log, timeout=max(60, 5 * base_time.get(s, 60)))
                if rc != 0 and BUILD_ERROR.search(open(log, errors="replace").read()):
                    # The step did not build (sources changed under the run): no verdict.
                    status, killer = "error", f"{s} did not build"
                    break
                if rc != 0:
                    status = "killed"
                    killer = s + (" (timeout)" if rc == "timeout" else "")
                    inv = re.search(r"^invariant: (.*)$", open(log, errors="replace").read(),
                                    re.M)
                    if inv:
                        killer += ": " + inv.group(1)
                    break
            if status is None and args.fuzz_seconds > 0 and m["file"] not in NO_FUZZ:
                if r.submake("bugs-build", "STEPS=fuzz", log=log, timeout=900) == 0:
                    fdir = info.get("fuzzdir", [""])[0]
                    for t in info.get("targets", []):
                        if not reach(r.o, t, m["file"]):
                            continue
                        wd = os.path.join(r.root, "fuzzrun")
                        shutil.rmtree(wd, ignore_errors=True)
                        os.makedirs(os.path.join(wd, "corpus"))
                        os.makedirs(os.path.join(wd, "art"))
                        cmd = [os.path.join(fdir, t), f"-max_total_time={args.fuzz_seconds}",
                               "-seed=1", "-timeout=10", "-rss_limit_mb=2048",
                               f"-artifact_prefix={wd}/art/"] + fuzz_options(t) + \
                            [os.path.join(wd, "corpus")] + \
                            ([f"corpus/{t}"] if os.path.isdir(f"corpus/{t}") else [])
                        try:
                            p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE, text=True,
                                               errors="replace",
                                               timeout=args.fuzz_seconds + 60)
                            err = p.stderr
                            hit = p.returncode != 0 and os.listdir(os.path.join(wd, "art"))
                        except subprocess.TimeoutExpired:
                            err, hit = "", True
                        if hit:
                            status = "killed"
                            inv = re.search(r"^invariant: (.*)$", err, re.M)
                            killer = f"fuzz {t}" + (": " + inv.group(1) if inv else "")
                            break
            if status is None:
                status = "survived"
        counts[status] += 1
        secs = time.time() - tm
        results.append(dict(m, status=status, killer=killer, seconds=f"{secs:.1f}"))
        print(f"[{i:4d}/{len(muts)}] {status:10s} {m['file']}:{m['line']:<4d} {m['op']} "
              f"{m['id']}  {killer[:60]}", flush=True)
    r.reset()

    os.makedirs(r.root, exist_ok=True)
    with open(os.path.join(r.root, "mutants.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "file", "line", "op", "status", "killed_by", "seconds", "mutated"])
        for x in results:
            w.writerow([x["id"], x["file"], x["line"], x["op"], x["status"], x["killer"],
                        x["seconds"], x["new"].strip()])
    scored = counts["killed"] + counts["survived"]
    score = 100.0 * counts["killed"] / scored if scored else 0.0
    rep = []
    rep.append("mutation summary")
    rep.append(f"  {'file':20s} {'killed':>7s} {'survived':>9s} {'stillborn':>10s} "
               f"{'equivalent':>11s}")
    files = sorted(set(x["file"] for x in results))
    for fn in files:
        c = {k: sum(1 for x in results if x["file"] == fn and x["status"] == k) for k in counts}
        rep.append(f"  {fn:20s} {c['killed']:7d} {c['survived']:9d} {c['stillborn']:10d} "
                   f"{c['equivalent']:11d}")
    surv = [x for x in results if x["status"] == "survived"]
    if surv:
        rep.append("surviving mutants (file:line, id, mutated line):")
        for x in surv:
            rep.append(f"  core/{x['file']}:{x['line']}  {x['id']}")
            rep.append(f"      - {x['old'].strip()}")
            rep.append(f"      + {x['new'].strip()}")
    eqs = [x for x in results if x["status"] == "equivalent"]
    if eqs:
        rep.append("judged equivalent (fuzz/mutation-equivalent.txt):")
        for x in eqs:
            rep.append(f"  core/{x['file']}:{x['line']}  {x['id']}  {x['killer']}")
    rep.append(f"mutation: score {score:.1f}% ({counts['killed']} killed of {scored}; "
               f"{counts['survived']} survived, {counts['stillborn']} stillborn, "
               f"{counts['equivalent']} equivalent, {counts['error']} without verdict) in {time.time() - t0:.0f}s")
    text = "\n".join(rep)
    open(os.path.join(r.root, "report.txt"), "w").write(text + "\n")
    print()
    print(text)
    if score < args.min_score:
        print(f"mutation: FAILED: score {score:.1f}% is below the goal of {args.min_score:g}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
