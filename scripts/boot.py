#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot the example payload under QEMU with each loader at several memory sizes and check
from its serial log where the heap went (make boot; docs/BOOT.md).

Loaders:
  multiboot1  QEMU's own multiboot v1 loader (-kernel payload.elf -append OPTIONS)
  multiboot2  GRUB from a grub-mkrescue ISO (multiboot2 /boot/payload.elf OPTIONS)
  coreboot    simulated hand-off: -kernel with "slotheap.cbsim"; the payload writes the
              loader's map as a coreboot table at 0x500 and boots from the table search

Each run must: exit through isa-debug-exit with the PASS status (33) before the timeout;
print "RESULT: PASS" and "selftest: PASS"; put the heap at the top of the highest RAM range
below 4 GiB of the map it printed (the end aligned down to 4 KiB, or below the highest
loader-data, image or static range that lies at that top), 4 KiB aligned, with the size the
options asked for, clear of the payload image, the static heap and every loader-data range.
"""
import argparse
import os
import re
import subprocess
import sys
import time

GIB = 1 << 30
MIB = 1 << 20
FOUR_G = 4 * GIB
PAGE = 4096

PASS_STATUS = 33  # isa-debug-exit: (0x10 << 1) | 1


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def fmt_size(n):
    return f"{n >> 30}G" if n % GIB == 0 else f"{n >> 20}M"


def rng(line):
    a, b = line.split()[:2]
    return int(a, 16), int(b, 16)


def parse_log(text):
    """The payload's serial log as a dict of what it printed."""
    log = {"map": [], "loader": [], "image": None, "static": None, "heap": None,
           "slots": None, "result": None, "selftest": None, "child_ok": False,
           "loader_name": None, "boot": None}
    for line in text.replace("\r", "").splitlines():
        key, _, rest = line.partition(": ")
        if key == "map":
            s, e = rng(rest)
            log["map"].append((s, e, rest.split()[2]))
        elif key == "loader-data":
            log["loader"].append(rng(rest))
        elif key == "loader":
            log["loader_name"] = rest.strip()
        elif key == "image":
            log["image"] = rng(rest)
        elif key == "static":
            log["static"] = rng(rest)
        elif key == "heap" and not rest.startswith("none"):
            log["heap"] = rng(rest)
            m = re.search(r"slots (\d+)", rest)
            log["slots"] = int(m.group(1)) if m else None
        elif key == "boot":
            log["boot"] = rest.strip()
        elif key == "child-table":
            log["child_ok"] = rest.endswith("heap reserved: yes")
        elif key == "RESULT":
            log["result"] = rest.strip()
        elif line.startswith("selftest: PASS"):
            log["selftest"] = "PASS"
        elif line.startswith("selftest: FAIL"):
            log["selftest"] = line
    return log


def expected_top(log):
    """End of the heap the placement rule predicts from the printed map: the top of the
    highest RAM range below 4 GiB, lowered past the payload's and loader's ranges at it."""
    ram = [(s, min(e, FOUR_G)) for s, e, t in log["map"] if t == "RAM" and s < FOUR_G]
    if not ram:
        return None, None
    lo, hi = max(ram)
    keep = list(log["loader"]) + [r for r in (log["image"], log["static"]) if r]
    moved = True
    while moved:
        moved = False
        for s, e in keep:
            if s < hi <= e:
                hi, moved = s, True
    return (lo, hi), hi & ~(PAGE - 1)


def check(log, status, want_size, want_slots):
    """A list of failed checks (empty: the run passed)."""
    bad = []
    if status != PASS_STATUS:
        bad.append(f"exit status {status}, want {PASS_STATUS}")
    if log["result"] != "PASS":
        bad.append(f"RESULT {log['result']}")
    if log["selftest"] != "PASS":
        bad.append(f"selftest {log['selftest']}")
    if not log["child_ok"]:
        bad.append("child table does not reserve the heap")
    if log["heap"] is None:
        bad.append(f"no extended heap (boot: {log['boot']})")
        return bad
    hs, he = log["heap"]
    rng_, top = expected_top(log)
    if top is None:
        bad.append("no RAM below 4 GiB in the printed map")
        return bad
    if hs % PAGE or he % PAGE:
        bad.append(f"heap [{hs:#x}, {he:#x}) not 4 KiB aligned")
    if he != top:
        bad.append(f"heap ends at {he:#x}, want the top of RAM {top:#x} "
                   f"(range [{rng_[0]:#x}, {rng_[1]:#x}))")
    if hs < rng_[0]:
        bad.append(f"heap starts below its RAM range at {hs:#x}")
    if he - hs != want_size:
        bad.append(f"heap is {he - hs} bytes, want {want_size}")
    if want_slots is not None and log["slots"] != want_slots:
        bad.append(f"heap has {log['slots']} slots, want {want_slots}")
    for name, rs in (("image", [log["image"]]), ("static heap", [log["static"]]),
                     ("loader data", log["loader"])):
        for r in rs:
            if r and r[0] < he and hs < r[1]:
                bad.append(f"heap overlaps the {name} [{r[0]:#x}, {r[1]:#x})")
    return bad


SAMPLE_LOG = """\
loader: multiboot1
map: 0x0000000000000000 0x000000000009fc00 RAM
map: 0x0000000000100000 0x000000001ffe0000 RAM
map: 0x000000001ffe0000 0x0000000020000000 reserved
map: 0x0000000100000000 0x0000000180000000 RAM
loader-data: 0x0000000000009000 0x00000000000090a8
image: 0x0000000000100000 0x0000000000172000
static: 0x0000000000161000 0x0000000000171000
heap: 0x000000001efe0000 0x000000001ffe0000 slots 2048 limit 0x0000000100000000
selftest: PASS
child-table: 212 bytes, heap reserved: yes
RESULT: PASS
"""


def self_check():
    """The checks must pass on a good log and fail on each kind of bad one."""
    size, slots = 16 * MIB, 2048
    good = parse_log(SAMPLE_LOG)
    assert check(good, PASS_STATUS, size, slots) == [], check(good, PASS_STATUS, size, slots)
    bad_logs = {
        "below the top": SAMPLE_LOG.replace("0x000000001efe0000 0x000000001ffe0000",
                                            "0x000000001efdf000 0x000000001ffdf000"),
        "unaligned": SAMPLE_LOG.replace("0x000000001efe0000 0x000000001ffe0000",
                                        "0x000000001efe0010 0x000000001ffe0000"),
        "above 4 GiB": SAMPLE_LOG.replace("0x000000001efe0000 0x000000001ffe0000",
                                          "0x000000017f000000 0x0000000180000000"),
        "over loader data": SAMPLE_LOG.replace("0x0000000000009000 0x00000000000090a8",
                                               "0x000000001f000000 0x000000001f0000a8"),
        "self-test failed": SAMPLE_LOG.replace("selftest: PASS", "selftest: FAIL x"),
        "no result": SAMPLE_LOG.replace("RESULT: PASS\n", ""),
        "wrong slots": SAMPLE_LOG.replace("slots 2048", "slots 1024"),
        "child table": SAMPLE_LOG.replace("heap reserved: yes", "heap reserved: NO"),
        "no heap": SAMPLE_LOG.replace("heap: 0x", "heap: none 0x"),
    }
    for name, text in bad_logs.items():
        assert check(parse_log(text), PASS_STATUS, size, slots), f"check misses: {name}"
    # loader data at the top of the range: the expected top moves below it
    top = SAMPLE_LOG.replace("0x0000000000009000 0x00000000000090a8",
                             "0x000000001ffdf800 0x000000001ffe0000")
    assert check(parse_log(top), PASS_STATUS, size, slots), "top loader data ignored"
    assert check(good, 0, size, slots), "exit status ignored"
    assert check(good, PASS_STATUS, 8 * MIB, slots), "size ignored"
    return 2 + len(bad_logs) + 1


def run(args, loader, mem, logpath):
    base = [args.qemu, "-machine", "pc", "-accel", args.accel, "-m",
            fmt_size(mem), "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", f"file:{logpath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if loader == "multiboot2":
        cmd = base + ["-cdrom", args.iso, "-boot", "d"]
    else:
        opts = args.options + (" slotheap.cbsim" if loader == "coreboot" else "")
        cmd = base + ["-kernel", args.payload, "-append", opts.strip()]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=args.timeout, check=False)
        status, note = p.returncode, p.stdout.decode(errors="replace").strip()
    except subprocess.TimeoutExpired:
        status, note = None, f"killed after {args.timeout} s"
    return status, note, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--payload", required=True)
    ap.add_argument("--iso", required=True)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--out", required=True, help="directory for the serial logs")
    ap.add_argument("--loaders", default="multiboot1,multiboot2,coreboot")
    ap.add_argument("--sizes", default="64M,512M,3G,5G")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--accel", default="tcg",
                    help="QEMU accelerator (tcg: the same everywhere; kvm where it works)")
    ap.add_argument("--options", default="slotheap.size=16M slotheap.slots=2048",
                    help="the command line the multiboot loaders pass (the ISO has its own "
                    "copy, written by make boot from the same variable)")
    ap.add_argument("--default-size", type=parse_size, default=8 * MIB,
                    help="heap size without a command line (coreboot)")
    args = ap.parse_args()

    want = {"slotheap.size": None, "slotheap.slots": None}
    for w in args.options.split():
        k, _, v = w.partition("=")
        if k in want:
            want[k] = v
    opt_size = parse_size(want["slotheap.size"]) if want["slotheap.size"] else 8 * MIB
    opt_slots = int(want["slotheap.slots"]) if want["slotheap.slots"] else 1024

    print(f"boot: log checker passes its {self_check()} self-checks")
    os.makedirs(args.out, exist_ok=True)
    loaders = args.loaders.split(",")
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    total = len(loaders) * len(sizes)
    rows, n = [], 0
    for loader in loaders:
        for mem in sizes:
            n += 1
            logpath = os.path.join(args.out, f"{loader}-{fmt_size(mem)}.log")
            if os.path.exists(logpath):
                os.unlink(logpath)
            print(f"boot [{n}/{total}] {loader:<10} {fmt_size(mem):>5} ...", end="",
                  flush=True)
            status, note, secs = run(args, loader, mem, logpath)
            text = open(logpath, errors="replace").read() if os.path.exists(logpath) else ""
            log = parse_log(text)
            if loader == "coreboot":
                bad = check(log, status, args.default_size, 1024)
            else:
                bad = check(log, status, opt_size, opt_slots)
            if status is None:
                bad.insert(0, note)
            heap = f"[{log['heap'][0]:#x}, {log['heap'][1]:#x})" if log["heap"] else "-"
            rows.append((loader, fmt_size(mem), heap, f"{secs:.1f}", bad, logpath))
            print(f" {'passed' if not bad else 'FAILED'} in {secs:.1f} s, heap {heap}")
            for b in bad:
                print(f"    {b}")
            if bad and note:
                print(f"    qemu: {note[:300]}")
            if bad:
                print(f"    log: {logpath}")

    print()
    print("make boot: summary")
    print(f"  {'loader':<11}{'RAM':>5}  {'heap':<30}{'secs':>6}  result")
    for loader, mem, heap, secs, bad, _ in rows:
        print(f"  {loader:<11}{mem:>5}  {heap:<30}{secs:>6}  {'passed' if not bad else 'FAILED'}")
    failed = sum(1 for r in rows if r[4])
    print(f"make boot: {len(rows) - failed} passed, {failed} failed (serial logs in {args.out})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
