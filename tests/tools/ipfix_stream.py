# SPDX-License-Identifier: MIT
"""Counts what an IPFIX exporter sent over one TCP connection (RFC 7011 messages back to back):
template records and data records, by the record length each template announces. Used by test
collectors that only need counts (a real collector checks the contents elsewhere).

    counter = IpfixStreamCounter()
    counter.feed(sock.recv(65536))   # any chunking: partial messages wait for their rest
    counter.templates, counter.records, counter.errors
"""
from __future__ import annotations

import struct


class IpfixStreamCounter:
    def __init__(self) -> None:
        self.templates = 0
        self.records = 0
        self.errors: list[str] = []
        self._buf = b""
        self._record_len: dict[int, int] = {}  # template id -> data record length

    def feed(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= 16:
            n = struct.unpack("!H", self._buf[2:4])[0]
            if n < 16:
                self.errors.append(f"message length {n} < 16: stream out of step")
                self._buf = b""
                return
            if len(self._buf) < n:
                return
            msg, self._buf = self._buf[:n], self._buf[n:]
            self._message(msg)

    def _message(self, msg: bytes) -> None:
        off = 16
        while off + 4 <= len(msg):
            sid, sl = struct.unpack("!HH", msg[off:off + 4])
            if sl < 4:
                self.errors.append(f"set {sid} of length {sl} < 4")
                return
            if sid == 2:
                self._templates(msg, off + 4, off + sl)
            elif sid in self._record_len:
                self.records += (sl - 4) // self._record_len[sid]
            elif sid >= 256:
                self.errors.append(f"data set {sid} before its template")
            off += sl

    def _templates(self, msg: bytes, q: int, end: int) -> None:
        while q + 4 <= end:
            tid, count = struct.unpack("!HH", msg[q:q + 4])
            q += 4
            length = 0
            for _ in range(count):
                eid, ln = struct.unpack("!HH", msg[q:q + 4])
                length += ln
                q += 8 if eid & 0x8000 else 4
            self._record_len[tid] = length
            self.templates += 1
