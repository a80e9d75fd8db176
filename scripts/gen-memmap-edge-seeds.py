#!/usr/bin/env python3
"""Writes the hand-made memmap_parse seeds corpus/memmap_parse/edge-*: small tables at the
edges of the memory-table contract (core/memmap.h) that the sample maps never reach, so that
the deterministic corpus replay compares core with the reference reader (ref/memmap_ref.c)
there. Each seed is one input of the stable memmap_parse format (the bytes of one table).

    scripts/gen-memmap-edge-seeds.py [CORPUS_DIR]     (default corpus/memmap_parse)

Seeds (what a reader that gets it wrong does differently from the reference):
  edge-cb-tblchecksum      coreboot table, valid header, table_checksum off by one
  edge-cb-end-wraps        coreboot ranges whose start + size reaches or passes 2^64
  edge-cb-forward-limit    four forwards, then a table forwarding to itself at the hop limit
  edge-cb-record-short     a 4-byte record (shorter than its own header) before the memory
  edge-cb-record-past      a memory record whose size runs past table_bytes
  edge-mb1-size-wrap       multiboot v1 entry size 0xfffffffc (4 + size wraps in 32 bits)
"""
import os
import struct
import sys

TAG_MEMORY = 0x01
TAG_FORWARD = 0x11


def checksum(b):
    """coreboot / internet checksum: one's-complement sum of 16-bit LE words, complemented."""
    s = 0
    for i in range(0, len(b), 2):
        s += b[i] | ((b[i + 1] << 8) if i + 1 < len(b) else 0)
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ranges(entries):
    return b"".join(struct.pack("<QQI", s, n, t) for s, n, t in entries)


def record(tag, payload, size=None):
    return struct.pack("<II", tag, 8 + len(payload) if size is None else size) + payload


def cb_table(records, nrec=None, table_checksum=None):
    """LBIO header (both checksums right unless table_checksum is given) + records."""
    body = b"".join(records)
    tcs = checksum(body) if table_checksum is None else table_checksum
    n = len(records) if nrec is None else nrec
    hdr = bytearray(b"LBIO" + struct.pack("<IIIII", 24, 0, len(body), tcs, n))
    struct.pack_into("<I", hdr, 8, checksum(bytes(hdr)))
    return bytes(hdr) + body


RAM = [(0, 0x9F000, 1), (0x100000, 0x7FF00000, 1), (0xF0000000, 0x1000000, 2)]


def seeds():
    out = {}
    good = record(TAG_MEMORY, ranges(RAM))
    out["edge-cb-tblchecksum"] = cb_table([good], table_checksum=(checksum(good) + 1) & 0xFFFF)
    out["edge-cb-end-wraps"] = cb_table([record(TAG_MEMORY, ranges([
        (0x100000, 0x100000, 1),
        (0xFFFFFFFFFFFF0000, 0x20000, 1),          # passes 2^64: clamped
        (0xFFFFFFFFFFFFFFFF, 5, 2),                # starts at the top: empty
        (0xFFFFFFFFFFF00000, 0xFFFFFFFFFFFFFFFF, 2),  # huge size: clamped
        (0xFFFFFFFFFFFFF000, 0x1000, 3),           # ends exactly at 2^64: clamped
    ]))])
    # Tables 0x40 apart, each forwarding to the next; the fifth forwards to itself.
    img = bytearray(0x180)
    addrs = [0x0, 0x40, 0x80, 0xC0, 0x100]
    for i, a in enumerate(addrs):
        target = addrs[i + 1] if i + 1 < len(addrs) else a
        t = cb_table([record(TAG_FORWARD, struct.pack("<Q", target))])
        img[a:a + len(t)] = t
    mem = cb_table([good])
    img[0x140:0x140 + len(mem)] = mem[: 0x180 - 0x140]
    out["edge-cb-forward-limit"] = bytes(img)
    out["edge-cb-record-short"] = cb_table([record(0x99, b"", size=4) + b"\0" * 4, good], nrec=2)
    out["edge-cb-record-past"] = cb_table([record(TAG_MEMORY, ranges(RAM[:1]), size=8 + 20 * 8)])
    out["edge-mb1-size-wrap"] = struct.pack("<I", 0xFFFFFFFC) + ranges([(0, 0x9F000, 1)])
    return out


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "corpus/memmap_parse"
    os.makedirs(corpus, exist_ok=True)
    s = seeds()
    for name, data in s.items():
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
    print(f"gen-memmap-edge-seeds: wrote {len(s)} seeds to {corpus}")


if __name__ == "__main__":
    main()
