#!/usr/bin/env python3
"""Helpers of make cross (mk/85-cross.mk): runs on other architectures and byte orders.

  cross.py steps MAKE STEP...
      Runs `MAKE STEP` for each step in turn, passing its output through, and ends with a
      table of each step's result and time. Exits non-zero if any step failed (the others
      still run).
  cross.py wrap RUNNER OUTDIR PROGRAM...
      Writes OUTDIR/<name of PROGRAM>: a script that runs PROGRAM under RUNNER (such as
      qemu-s390x), so that tests/run_unit.sh and scripts/replay.sh run foreign binaries as
      they run native ones.
  cross.py memmap-compare HOST_CLI OTHER_CLI CORPUS_DIR SAMPLES_DIR OUTDIR
      Reads every table in CORPUS_DIR (binary tables written little-endian on the host) with
      both sh-memmap builds and requires the same output and exit status; then writes every
      binary format from every CSV sample in SAMPLES_DIR with both and requires the same
      bytes. With OTHER_CLI built for a big-endian target this shows that the parsers and
      the emitters read and write the wire formats byte by byte, not in host order.
  cross.py qemu-image EXPECT TIMEOUT COMMAND...
      Runs a bare-metal image (COMMAND is the whole qemu command line) with a time limit and
      requires the outcome EXPECT: "pass" (exit status 0 and a last line ending in PASS) or
      "fail" (exit status 1 and a line containing FAIL). Prints the image's output.
"""
import os
import shlex
import subprocess
import sys
import time

FORMATS = ["cbtable", "cbimage", "mb1", "mb2", "mb2info", "e820", "e820-24"]
EMIT = ["cbtable", "cbimage", "mb1", "mb2", "e820", "e820-24"]


def steps(make, names):
    results = []
    for i, name in enumerate(names, 1):
        print(f"cross: [{i}/{len(names)}] {name}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call(shlex.split(make) + [name])
        results.append((name, rc, time.monotonic() - t0))
        print(f"cross: {name} {'passed' if rc == 0 else f'FAILED (exit {rc})'}", flush=True)
    print()
    print("make cross: summary")
    print(f"  {'step':<14} {'result':<8} {'seconds':>8}")
    for name, rc, secs in results:
        print(f"  {name:<14} {'passed' if rc == 0 else 'FAILED':<8} {secs:8.1f}")
    failed = [n for n, rc, _ in results if rc != 0]
    total = sum(s for _, _, s in results)
    print(f"make cross: {len(results) - len(failed)} of {len(results)} steps passed "
          f"in {total:.0f} s" + (f"; failed: {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def wrap(runner, outdir, programs):
    os.makedirs(outdir, exist_ok=True)
    for prog in programs:
        path = os.path.join(outdir, os.path.basename(prog))
        with open(path, "w") as f:
            f.write("#!/bin/sh\n")
            f.write(f"exec {runner} {shlex.quote(os.path.abspath(prog))} \"$@\"\n")
        os.chmod(path, 0o755)
    return 0


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout


def memmap_compare(host, other, corpus, samples, outdir):
    os.makedirs(outdir, exist_ok=True)
    checked = failed = 0
    for name in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, name)
        ext = name.rsplit(".", 1)[-1]
        fmt = ext if ext in FORMATS else "auto"
        a, b = run([host, path, "--format", fmt]), run([other, path, "--format", fmt])
        checked += 1
        if a != b:
            failed += 1
            print(f"memmap-compare: {path} ({fmt}): outputs differ "
                  f"(exit {a[0]} and {b[0]})")
            for line in set(b[1].decode(errors="replace").splitlines()) - set(
                    a[1].decode(errors="replace").splitlines()):
                print(f"    other: {line}")
    emitted = 0
    for name in sorted(os.listdir(samples)):
        if not name.endswith(".csv"):
            continue
        src = os.path.join(samples, name)
        for fmt in EMIT:
            outs = []
            # the same output path for both: the CLI names it in what it prints
            out = os.path.join(outdir, f"{name[:-4]}.{fmt}")
            for cli in (host, other):
                if os.path.exists(out):
                    os.remove(out)
                rc, text = run([cli, src, "--format", "csv", "--emit", fmt, "-o", out])
                data = open(out, "rb").read() if rc == 0 and os.path.exists(out) else None
                outs.append((rc, text, data))
            emitted += 1
            if outs[0] != outs[1] or outs[0][2] is None:
                failed += 1
                print(f"memmap-compare: {src} --emit {fmt}: the two builds differ "
                      f"(exit {outs[0][0]} and {outs[1][0]})")
    print(f"memmap-compare: {checked} tables read, {emitted} tables written, "
          f"{failed} differ")
    return 1 if failed or checked == 0 or emitted == 0 else 0


def qemu_image(expect, timeout, cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=float(timeout))
    except subprocess.TimeoutExpired as e:
        sys.stdout.write((e.stdout or b"").decode(errors="replace"))
        print(f"qemu-image: no exit within {timeout} s: killed, FAIL")
        return 1
    out = p.stdout.decode(errors="replace")
    sys.stdout.write(out)
    lines = [l for l in out.splitlines() if l.strip()]
    last = lines[-1] if lines else ""
    if expect == "pass":
        ok = p.returncode == 0 and last.endswith("PASS")
    else:
        ok = p.returncode == 1 and any("FAIL" in l for l in lines)
    print(f"qemu-image: exit status {p.returncode}, expected the {expect.upper()} outcome: "
          f"{'as expected' if ok else 'NOT as expected'}")
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "steps":
        return steps(argv[2], argv[3:])
    if len(argv) >= 4 and argv[1] == "wrap":
        return wrap(argv[2], argv[3], argv[4:])
    if len(argv) == 7 and argv[1] == "memmap-compare":
        return memmap_compare(*argv[2:])
    if len(argv) >= 5 and argv[1] == "qemu-image" and argv[2] in ("pass", "fail"):
        return qemu_image(argv[2], argv[3], argv[4:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
