#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkring.py - write a ring file as libstartpath.so lays it out
(include/startpath.h), for tests that need rings the library would not make:
another process's, another pid namespace's, or hostile ones.

  mkring.py FILE [--pid N] [--pidns N] [--t-load NS] [--exited]
                 [--size BYTES] [--orphan-exits N]

--orphan-exits N writes N exit records whose enters are missing (each a
call of its own): the input that made span pairing quadratic.
"""
import argparse
import struct

MAGIC = 0x31474E4952505453
HDR_SIZE, REC_SIZE = 4096, 512
OFF_PIDNS, OFF_HEAD, OFF_FLAGS = 1360, 1472, 1536
SP_HF_EXITED = 0x1
SP_K_EXIT, SP_C_MOUNT = 2, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--pid", type=int, default=1)
    ap.add_argument("--pidns", type=int, default=0)
    ap.add_argument("--t-load", type=int, default=1)
    ap.add_argument("--exited", action="store_true")
    ap.add_argument("--size", type=int, default=0, help="file size (at least the header and 64 records)")
    ap.add_argument("--orphan-exits", type=int, default=0)
    a = ap.parse_args()

    cap = 64
    while cap < a.orphan_exits:
        cap *= 2
    size = max(a.size, HDR_SIZE + cap * REC_SIZE)
    hdr = bytearray(HDR_SIZE)
    struct.pack_into("<QIIII", hdr, 0, MAGIC, 2, HDR_SIZE, REC_SIZE, cap)
    struct.pack_into("<QQiiiI", hdr, 24, a.pid * 7919 + 1, 0, a.pid, a.pid, 1, 0)
    struct.pack_into("<QQ", hdr, 56, a.t_load, a.t_load)
    struct.pack_into("<I", hdr, 72, 1)
    hdr[80:80 + 9] = b"/bin/true"
    hdr[336:336 + 5] = b"true\0"
    struct.pack_into("<Q", hdr, OFF_PIDNS, a.pidns)
    struct.pack_into("<Q", hdr, OFF_HEAD, a.orphan_exits)
    struct.pack_into("<Q", hdr, OFF_FLAGS, SP_HF_EXITED if a.exited else 0)
    with open(a.file, "wb") as f:
        f.write(hdr)
        rec = bytearray(REC_SIZE)
        for i in range(a.orphan_exits):
            # seq, t_ns, pid, tid, kind, call, callid, result, err, src, flags, nstr
            struct.pack_into("<QQiiHHIqiBBH", rec, 0, i + 1, a.t_load + 1000 * (i + 1), a.pid,
                             a.pid, SP_K_EXIT, SP_C_MOUNT, i + 1, 0, 0, 0, 0, 0)
            f.write(rec)
        f.truncate(size)


if __name__ == "__main__":
    main()
