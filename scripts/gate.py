#!/usr/bin/env python3
"""make gate BASE=<ref>: the merge verdict for the change from BASE to the working tree.

  change      the files that differ from BASE (committed, staged, unstaged and untracked)
  make check  every deterministic test (make -k check; GATE_SKIP_CHECK=1 when the caller ran it,
              as ci/pr.sh does)
  replay      every committed input (corpus/<target>/, corpus/regressions/) through the replay
              build of each target twice, with BASE's core/ (git archive into OUT/base, built
              through mk/40-fuzz.mk's CORE_DIR) and with the working tree's core/, both against
              the working tree's model and harness; lists every input whose result differs. An
              input the new core fails fails the gate; one that only BASE's core fails is a
              deliberate behaviour change (accepted with the model change in ref/) or a fix
  fuzz        make fuzz for GATE_FUZZ_SECONDS (120) over the targets whose corpus reaches a
              changed core/ file (from the coverage runs), or every target when the model or a
              harness changed (ref/, fuzz/ sources); a finding fails the gate
  bugs        make check-bugs: the bug-catalog subset must still be caught (part of make check,
              so skipped with GATE_SKIP_CHECK=1)
  coverage    scripts/coverage.py for the working tree and for BASE (same method): core/ line
              and branch coverage per file; fails below tests/coverage/thresholds.txt or when a
              build's total drops more than GATE_COV_DROP (0.5) points

Ends with PASS or FAIL and a table, also in OUT/summary.md (Markdown) and OUT/report.txt; exit
1 on FAIL, 2 on bad usage (an unknown BASE).

    scripts/gate.py --base REF [--out DIR]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.getcwd()
O = os.environ.get("O", "build")
MAKE = os.environ.get("MAKE", "make")
PY = sys.executable or "python3"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def sh(cmd, log=None, **kw):
    """Runs cmd in ROOT; output to the log file (and a progress line), returns (rc, output)."""
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", **kw)
    if log:
        with open(log, "w") as f:
            f.write(r.stdout)
    return r.returncode, r.stdout, time.monotonic() - t0


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def fuzz_targets():
    out = []
    for f in sorted(os.listdir(os.path.join(ROOT, "fuzz"))):
        if f.endswith(".c"):
            with open(os.path.join(ROOT, "fuzz", f), encoding="utf-8") as fh:
                if re.search(r"^int LLVMFuzzerTestOneInput\(.*\)$", fh.read(), re.M):
                    out.append(f[:-2])
    return out


def replay_results(bindir, targets):
    """{input path: failure text} for every failing input, and the number of inputs run."""
    fails, total = {}, 0
    for t in targets:
        ins = []
        if os.path.isdir(os.path.join(ROOT, "corpus", t)):
            ins.append(os.path.join("corpus", t))
        reg = os.path.join(ROOT, "corpus", "regressions")
        if os.path.isdir(reg):
            ins += [os.path.join("corpus", "regressions", f) for f in sorted(os.listdir(reg))
                    if f.startswith(t + "-") and not re.search(r"\.(trace|md|txt|svg)$", f)]
        if not ins:
            continue
        rc, out, _ = sh([os.path.join(bindir, t), "-q", *ins])
        m = re.search(r"(\d+) passed, (\d+) failed", out)
        total += int(m.group(1)) + int(m.group(2)) if m else 0
        # A failing input's report (stderr of the child) comes before its FAIL line.
        pending = None
        for blk in re.finditer(r"==== slotheap differential failure ====\n(.*?)==== end of "
                               r"report|^FAIL (\S+): ([^\n]*)$", out, re.S | re.M):
            if blk.group(1) is not None:
                r = blk.group(1)
                inv = re.search(r"^invariant: (.*)$", r, re.M)
                step = re.search(r"^step: (.*)$", r, re.M)
                det = re.search(r"^detail: (.*)$", r, re.M)
                pending = "step %s, %s%s" % (step.group(1) if step else "?",
                                             inv.group(1) if inv else "?",
                                             ": " + det.group(1)[:90] if det else "")
            else:
                fails[blk.group(2)] = pending or blk.group(3)
                pending = None
        if rc != 0 and not fails and not m:
            fails["(%s)" % t] = "replay did not run: " + out.strip()[-200:]
    return fails, total


class Gate:
    def __init__(self, base, out):
        self.base, self.out = base, out
        self.rows = []  # (step, result, detail, seconds)
        self.lists = []  # (title, lines)

    def row(self, step, result, detail, secs=None):
        self.rows.append((step, result, detail, secs))
        print("gate: %-10s %-7s %s%s" % (step, result, detail,
                                         "" if secs is None else " (%.0f s)" % secs), flush=True)

    def run(self):
        os.makedirs(self.out, exist_ok=True)
        rev = git("rev-parse", "--verify", "--quiet", self.base + "^{commit}")
        if rev.returncode != 0:
            print("gate: BASE '%s' is not a commit here (git fetch it, or name another)"
                  % self.base, file=sys.stderr)
            return 2
        self.sha = rev.stdout.strip()
        changed = sorted(set(git("diff", "--name-only", self.sha).stdout.split()) |
                         set(git("ls-files", "-o", "--exclude-standard").stdout.split()))
        self.changed = changed
        core = [f for f in changed if f.startswith("core/")]
        self.row("change", "INFO", "%d file(s) differ from %s (%s): %d in core/, %d in ref/, "
                 "%d in fuzz/" % (len(changed), self.base, self.sha[:10], len(core),
                                  sum(f.startswith("ref/") for f in changed),
                                  sum(f.startswith("fuzz/") for f in changed)))
        if changed:
            self.lists.append(("Changed files", changed))

        # The base's sources, for its core/ (replay) and its whole tree (coverage).
        btree = os.path.join(self.out, "base")
        shutil.rmtree(btree, ignore_errors=True)
        os.makedirs(btree)
        arch = subprocess.run("git archive %s | tar -x -C %s" % (self.sha, btree), shell=True,
                              cwd=ROOT)
        if arch.returncode != 0:
            self.row("base", "FAIL", "git archive of %s failed" % self.base)
            return self.finish()

        self.step_check()
        self.step_replay(btree)
        cov = self.step_coverage(btree)
        self.step_fuzz(core, [c for c in (cov, getattr(self, "cov_base", None)) if c])
        self.step_bugs()
        return self.finish()

    def step_check(self):
        if os.environ.get("GATE_SKIP_CHECK", "0") == "1":
            self.row("check", "SKIP", "make check ran before the gate (GATE_SKIP_CHECK=1)")
            return
        rc, out, dt = sh([MAKE, "-k", "--no-print-directory", "check"],
                         log=os.path.join(self.out, "check.log"))
        failed = re.findall(r"^make(?:\[\d+\])?: \*\*\* \[[^\]]*: ([\w-]+)\]", out, re.M)
        self.check_out = out
        self.row("check", "PASS" if rc == 0 else "FAIL", "make check" + (
            "" if rc == 0 else ": failed in %s (%s/check.log)" % (", ".join(sorted(set(failed)))
                                                                  or "?", self.out)), dt)

    def step_replay(self, btree):
        targets = fuzz_targets()
        t0 = time.monotonic()
        bcore = os.path.relpath(os.path.join(btree, "core"), ROOT)
        rc1, out1, _ = sh([MAKE, "--no-print-directory", "fuzz-build-replay"],
                          log=os.path.join(self.out, "replay-build-new.log"))
        rc2, out2, _ = sh([MAKE, "--no-print-directory", "fuzz-build-replay", "CORE_DIR=" + bcore],
                          log=os.path.join(self.out, "replay-build-base.log"))
        if rc1 != 0:
            self.row("replay", "FAIL", "the replay build of the working tree failed (%s)" %
                     os.path.join(self.out, "replay-build-new.log"), time.monotonic() - t0)
            return
        new, n = replay_results(os.path.join(O, "fuzz", "core", "replay", "bin"), targets)
        if rc2 != 0:
            self.row("replay", "FAIL" if new else "N/A",
                     "%d of %d inputs fail with the new core; BASE's core does not build with "
                     "this tree's harness and model (an API change; %s)" % (
                         len(new), n, os.path.join(self.out, "replay-build-base.log")),
                     time.monotonic() - t0)
            if new:
                self.lists.append(("Inputs the new core fails", ["%s: %s" % kv for kv in
                                                                 sorted(new.items())]))
            return
        tag = bcore.replace("/", "_")
        old, _ = replay_results(os.path.join(O, "fuzz", tag, "replay", "bin"), targets)
        diff = sorted(set(new) | set(old))
        lines = []
        for p in diff:
            if p in new and p not in old:
                lines.append("%s: passes with BASE's core, FAILS with the new core: %s" % (
                    p, new[p]))
            elif p in old and p not in new:
                lines.append("%s: fails with BASE's core (%s), passes with the new core" % (
                    p, old[p]))
            elif old[p] != new[p]:
                lines.append("%s: fails with both, differently: BASE %s; new %s" % (
                    p, old[p], new[p]))
        ref_changed = any(f.startswith("ref/") for f in self.changed)
        newly = [p for p in new if p not in old]
        only_old = [p for p in old if p not in new]
        if new:
            res = "FAIL"
            det = "%d of %d inputs fail with the new core (%d passed with BASE's)" % (
                len(new), n, len(newly))
        elif only_old:
            res = "PASS"
            det = "%d input(s) of %d change result: they fail with BASE's core and pass with the " \
                "new one, %s" % (len(only_old), n, "a behaviour change the model in ref/ " \
                                 "accepts (ref/ changed too)" if ref_changed else
                                 "a fix (ref/ unchanged)")
        else:
            res = "PASS"
            det = "all %d inputs give the same result with BASE's and the new core" % n
        self.row("replay", res, det, time.monotonic() - t0)
        if lines:
            self.lists.append(("Inputs whose results differ (BASE core vs new core, against "
                               "this tree's model)", lines))

    def step_coverage(self, btree):
        t0 = time.monotonic()
        jn, jb = os.path.join(self.out, "cov-new.json"), os.path.join(self.out, "cov-base.json")
        rc, out, _ = sh([PY, os.path.join(SCRIPTS, "coverage.py"), "--out",
                         os.path.join(self.out, "cov-new"), "--json", jn],
                        log=os.path.join(self.out, "coverage-new.log"))
        if not os.path.exists(jn) or not json.load(open(jn)):
            self.row("coverage", "FAIL", "coverage of the working tree failed (%s)" %
                     os.path.join(self.out, "coverage-new.log"), time.monotonic() - t0)
            return None
        new = json.load(open(jn))
        rcb, _, _ = sh([PY, os.path.join(SCRIPTS, "coverage.py"), "--root", btree, "--out",
                        os.path.join(self.out, "cov-base"), "--json", jb, "--no-thresholds"],
                       log=os.path.join(self.out, "coverage-base.log"))
        base = json.load(open(jb)) if os.path.exists(jb) else {}
        drop_max = float(os.environ.get("GATE_COV_DROP", "0.5"))
        problems, lines = [], []
        below = re.findall(r"^coverage: (\w+) build: .*BELOW THRESHOLD$", out, re.M)
        problems += ["%s build below tests/coverage/thresholds.txt" % b for b in below]
        if rc != 0 and not below:
            problems.append("unit tests or corpus failed under coverage (%s)" %
                            os.path.join(self.out, "coverage-new.log"))

        def pct(c):
            return 100.0 * c[0] / c[1] if c[1] else 100.0

        summary = []
        for build in sorted(new):
            files = sorted(set(new[build]["files"]) | set(base.get(build, {}).get("files", {})))
            for name in files + ["total"]:
                nf = new[build]["total"] if name == "total" else new[build]["files"].get(name)
                bb = base.get(build, {})
                bf = bb.get("total") if name == "total" else bb.get("files", {}).get(name)
                cells = []
                for k in ("lines", "branches"):
                    nv = pct(nf[k]) if nf and nf[k][1] else None
                    bv = pct(bf[k]) if bf and bf[k][1] else None
                    cells += [bv, nv]
                if all(c is None for c in cells):
                    continue
                lines.append((build, name, cells))
                if name == "total":
                    for k, (bv, nv) in (("lines", cells[0:2]), ("branches", cells[2:4])):
                        if bv is not None and nv is not None:
                            summary.append("%s %s %.2f%% -> %.2f%%" % (build, k, bv, nv))
                            if bv - nv > drop_max:
                                problems.append("%s build: %s coverage dropped %.2f points" % (
                                    build, k, bv - nv))
        self.cov_table = lines
        self.cov_base = base
        det = "; ".join(summary) + ("" if base else
                                    " (BASE not measurable with this method, see %s)" %
                                    os.path.join(self.out, "coverage-base.log"))
        if problems:
            det = "; ".join(problems) + ". " + det
        self.row("coverage", "FAIL" if problems else "PASS", det, time.monotonic() - t0)
        return new

    def step_fuzz(self, core, cov):
        secs = int(os.environ.get("GATE_FUZZ_SECONDS", "120"))
        targets = fuzz_targets()
        # Code the targets run besides core/: the model and the harnesses (not their docs, nor
        # the bug catalog's patches).
        model = [f for f in self.changed if f.startswith(("ref/", "fuzz/")) and
                 not f.startswith("fuzz/bugs/") and f.endswith((".c", ".h", ".dict", ".options"))]
        if model:
            chosen, why = targets, "the model or a harness changed"
        elif core and cov:
            # What each target's corpus runs, in BASE and in the new tree (a broken change can
            # crash the coverage run before it writes its profile).
            reach = {}
            for c in cov:
                for build in c.values():
                    for t, files in build.get("reach", {}).items():
                        reach.setdefault(t, set()).update(files)
            chosen = [t for t in targets if reach.get(t, set()) & set(core)]
            why = "reach the changed core/ files"
            if not chosen:
                chosen, why = targets, "core/ changed; no corpus reaches it, so every target"
        elif core:
            chosen, why = targets, "core/ changed (no coverage to narrow it)"
        else:
            self.row("fuzz", "SKIP", "the change touches no file a fuzz target runs")
            return
        if secs <= 0 or not chosen:
            self.row("fuzz", "SKIP", "GATE_FUZZ_SECONDS=0" if secs <= 0 else
                     "no target reaches the changed files")
            return
        rc, out, dt = sh([MAKE, "--no-print-directory", "fuzz", "FUZZ_SECONDS=%d" % secs,
                          "TARGETS=" + " ".join(chosen)], log=os.path.join(self.out, "fuzz.log"))
        found = [ln.strip() for ln in out.splitlines() if re.match(r"^\s+\w+: .*(min-|more input|"
                                                                     r"exit status)", ln)]
        self.row("fuzz", "PASS" if rc == 0 else "FAIL", "%s (%s), %d s: %s" % (
            " ".join(chosen), why, secs, "nothing found" if rc == 0 else
            "%d finding(s), see %s/fuzz.log" % (max(len(found), 1), self.out)), dt)
        if found:
            self.lists.append(("Fuzzing findings (minimized input, .trace, .report)", found))

    def step_bugs(self):
        if os.environ.get("GATE_SKIP_CHECK", "0") == "1":
            self.row("bugs", "SKIP", "part of make check, which ran before the gate")
            return
        if hasattr(self, "check_out") and re.search(r"^check-bugs: \d+ passed, 0 failed$",
                                                    self.check_out, re.M):
            m = re.search(r"^bugs: (\d+ of \d+ caught.*?);", self.check_out, re.M)
            self.row("bugs", "PASS", "in make check: " + (m.group(1) if m else "all caught"))
            return
        rc, out, dt = sh([MAKE, "--no-print-directory", "check-bugs"],
                         log=os.path.join(self.out, "bugs.log"))
        m = re.search(r"^bugs: (.*?);", out, re.M)
        self.row("bugs", "PASS" if rc == 0 else "FAIL", "make check-bugs: " + (
            m.group(1) if m else "exit %d" % rc), dt)

    def finish(self):
        verdict = "FAIL" if any(r[1] == "FAIL" for r in self.rows) else "PASS"
        txt = ["gate: %s for the change from %s (%s) to the working tree" % (
            verdict, self.base, getattr(self, "sha", "?")[:10]), ""]
        txt.append("  %-9s %-6s %7s  %s" % ("step", "result", "time", "detail"))
        md = ["## Merge gate: **%s**" % verdict, "",
              "Change from `%s` (`%s`) to the working tree." % (self.base,
                                                               getattr(self, "sha", "?")[:10]),
              "", "| step | result | time | detail |", "|---|---|---:|---|"]
        for step, res, det, secs in self.rows:
            t = "" if secs is None else "%d:%02d" % (secs // 60, secs % 60)
            txt.append("  %-9s %-6s %7s  %s" % (step, res, t, det))
            md.append("| %s | %s | %s | %s |" % (step, "**%s**" % res if res == "FAIL" else res,
                                                 t, det.replace("|", "\\|")))
        if getattr(self, "cov_table", None):
            txt += ["", "  core/ coverage, BASE -> new     lines               branches"]
            md += ["", "| build | file | lines BASE | lines new | branches BASE | branches new |",
                   "|---|---|---:|---:|---:|---:|"]
            for build, name, c in self.cov_table:
                f = ["%.2f" % v if v is not None else "-" for v in c]
                txt.append("  %-8s %-21s %6s -> %-6s  %6s -> %-6s" % (build, name, *f))
                md.append("| %s | %s | %s | %s | %s | %s |" % (build, name, *f))
        for title, items in self.lists:
            txt += ["", "  " + title + ":"] + ["    " + i for i in items[:50]]
            md += ["", "**%s**" % title, ""] + ["- `%s`" % i.replace("`", "'") for i in items[:50]]
            if len(items) > 50:
                txt.append("    ... and %d more" % (len(items) - 50))
                md.append("- ... and %d more" % (len(items) - 50))
        txt += ["", "gate: %s" % verdict]
        with open(os.path.join(self.out, "report.txt"), "w") as f:
            f.write("\n".join(txt) + "\n")
        with open(os.path.join(self.out, "summary.md"), "w") as f:
            f.write("\n".join(md) + "\n")
        print()
        print("\n".join(txt))
        print("gate: report in %s/report.txt, Markdown in %s/summary.md" % (self.out, self.out))
        return 1 if verdict == "FAIL" else 0


def main(argv):
    base, out = None, os.path.join(O, "gate")
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--base" and args:
            base = args.pop(0)
        elif a == "--out" and args:
            out = args.pop(0)
        else:
            base = None
            break
    if not base:
        print("usage: make gate BASE=<ref>   (scripts/gate.py --base REF [--out DIR])",
              file=sys.stderr)
        return 2
    return Gate(base, out).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
