#!/usr/bin/env python3
"""Checks GitHub Actions workflow files two ways:

  schema  each file against the official workflow schema (SchemaStore's, as compiled into
          @action-validator/cli from the npm registry, installed on first use into
          build/tools/ by this script; ACTION_VALIDATOR=path uses another copy)
  refs    every `run:` command that calls `make TARGET...`, a script (bash/sh/python3 FILE, or
          a path such as ci/pr.sh) or a local action (`uses: ./dir`) names something that exists
          in this repository: a make target make knows, a file that is there

    ci/check-workflows.py [--only schema|refs] FILE...

Prints one line per file and check, then a summary; exits 1 if any check failed, 2 when the
schema validator cannot be installed (the reason is printed).
"""

import os
import re
import shlex
import subprocess
import sys

sys.dont_write_bytecode = True
from cilib import make_targets  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VALIDATOR_PKG = "@action-validator/cli@0.6.0"
TOOLS = os.path.join(ROOT, "build", "tools")

# Words that may come before the command itself.
PREFIX_WORDS = {"sudo", "env", "exec", "time", "nice", "timeout", "command"}
SHELLS = {"bash", "sh", "python3", "python"}
SEPARATORS = re.compile(r"&&|\|\||[;|\n]")


def validator():
    path = os.environ.get("ACTION_VALIDATOR")
    if path:
        return path
    path = os.path.join(TOOLS, "node_modules", ".bin", "action-validator")
    if os.path.exists(path):
        return path
    print("check-workflows: installing %s into %s" % (VALIDATOR_PKG, os.path.relpath(TOOLS, ROOT)))
    os.makedirs(TOOLS, exist_ok=True)
    try:
        r = subprocess.run(
            ["npm", "install", "--prefix", TOOLS, "--no-audit", "--no-fund", "--silent",
             VALIDATOR_PKG],
            cwd=ROOT,
        )
    except FileNotFoundError:
        print("check-workflows: npm not found (scripts/install-deps.sh ci)", file=sys.stderr)
        sys.exit(2)
    if r.returncode != 0 or not os.path.exists(path):
        print("check-workflows: could not install %s with npm" % VALIDATOR_PKG, file=sys.stderr)
        sys.exit(2)
    return path


def check_schema(path):
    r = subprocess.run([validator(), path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode == 0:
        return []
    details = re.findall(r'"(?:detail|title)": "([^"]*)"[^}]*?"path": "([^"]*)"', r.stdout)
    details += [(d, p) for p, d in re.findall(r'"path": "([^"]*)",\s*"title": "([^"]*)"',
                                              r.stdout)]
    lines = sorted({"%s: %s" % (p, d) for d, p in details})
    return lines or [r.stdout.strip()[:400] or "validator exit status %d" % r.returncode]


def run_blocks(text):
    """(line number, command text) of every `run:` value, block scalars included."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?run:\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, value = len(m.group(1)), m.group(2).strip()
        start = i + 1
        if value[:1] in ("|", ">"):
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i].strip())
                i += 1
            out.append((start, "\n".join(body)))
        else:
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out.append((start, value))
            i += 1
    return out


def command_words(cmd):
    cmd = re.sub(r"\$\{\{.*?\}\}", "__EXPR__", cmd)
    try:
        words = shlex.split(cmd, comments=True)
    except ValueError:
        return []
    while words and (words[0] in PREFIX_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])
                     or re.match(r"^-", words[0]) or re.match(r"^\d+[smh]?$", words[0])):
        words = words[1:]
    return words


def check_refs(path, targets):
    text = open(path, encoding="utf-8").read()
    problems = []
    for lineno, block in run_blocks(text):
        for cmd in SEPARATORS.split(block):
            words = command_words(cmd)
            if not words or "__EXPR__" in words[0]:
                continue
            head = words[0]
            if head == "make":
                args = words[1:]
                skip_next = False
                for a in args:
                    if skip_next:
                        skip_next = False
                        continue
                    if a in ("-C", "-f", "-l", "-o", "-W"):
                        skip_next = True
                        continue
                    if a.startswith("-") or "=" in a or "__EXPR__" in a or "$" in a or a.isdigit():
                        continue
                    if a not in targets:
                        problems.append("line %d: make has no target '%s'" % (lineno, a))
                continue
            script = None
            if head in SHELLS:
                rest = [w for w in words[1:] if not w.startswith("-")]
                script = rest[0] if rest else None
            elif "/" in head and not head.startswith("/"):
                script = head
            if script and "$" not in script:
                f = os.path.normpath(os.path.join(ROOT, script))
                if not os.path.isfile(f):
                    problems.append("line %d: no such script '%s'" % (lineno, script))
                elif head not in SHELLS and not os.access(f, os.X_OK):
                    problems.append("line %d: '%s' is not executable" % (lineno, script))
    for lineno, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*(?:- )?uses:\s*['\"]?(\./[^\s'\"]+)", line)
        if m and not os.path.isdir(os.path.join(ROOT, m.group(1))):
            problems.append("line %d: no local action '%s'" % (lineno, m.group(1)))
    return problems


def main(argv):
    only = None
    files = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--only":
            only = args.pop(0) if args else ""
            if only not in ("schema", "refs"):
                print("check-workflows: --only schema|refs", file=sys.stderr)
                return 2
        else:
            files.append(a)
    if not files:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    targets = make_targets(ROOT) if only != "schema" else set()
    failed = 0
    for f in files:
        if not os.path.isfile(f):
            print("check-workflows: %s: no such file" % f, file=sys.stderr)
            return 2
        for name, fn in (("schema", lambda: check_schema(f)),
                         ("refs", lambda: check_refs(f, targets))):
            if only and name != only:
                continue
            problems = fn()
            print("  %-44s %-7s %s" % (f, name, "FAILED" if problems else "ok"))
            for p in problems:
                print("      " + p)
            failed += bool(problems)
    print("check-workflows: %d file(s), %d check(s) failed" % (len(files), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
