#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""stretch_pcap.py IN.pcap OUT.pcap FACTOR: the same classic pcap (little-endian, microsecond)
with every packet's time since the first packet multiplied by FACTOR (the packets and their
order unchanged). For benchmarks of time-driven behaviour (snapshots) on gen_pcap output,
whose packets are 1 µs apart: FACTOR 1000 spreads the 275k-packet capture over 275 s.
"""
import struct, sys
src, dst, factor = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = memoryview(open(src, "rb").read())
if struct.unpack_from("<I", data, 0)[0] != 0xA1B2C3D4:
    sys.exit("stretch_pcap: only little-endian microsecond pcap files")
out = bytearray(data)
off, t0 = 24, None
while off + 16 <= len(data):
    sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
    t = sec * 1_000_000 + usec
    t0 = t if t0 is None else t0
    t = t0 + (t - t0) * factor
    struct.pack_into("<II", out, off, t // 1_000_000, t % 1_000_000)
    off += 16 + incl
open(dst, "wb").write(out)
