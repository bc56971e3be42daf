#!/usr/bin/env python3
"""kvclient.py: a small, independent kvlds protocol client for the
integration scenarios (tests/integration/3??-*.sh).

It speaks the framing and records of the kvlds protocol itself (its own
CRC32C table, its own encoders), so that the daemon is checked against a
second implementation rather than against lib/packet and lib/kvproto.

    import kvclient
    c = kvclient.Conn("/path/to/kvlds.sock")
    c.set(b"k", b"v")            # -> 0
    c.get(b"k")                  # -> b"v" (None if absent)
    ids = [c.send(kvclient.req_set(b"a", b"b")) for _ in range(10)]
    c.collect(ids)               # pipelined: {id: record}
"""

import socket
import struct

PARAMS = 0x100
SET = 0x110
CAS = 0x111
ADD = 0x112
MODIFY = 0x113
DELETE = 0x120
CAD = 0x121
GET = 0x130
RANGE = 0x131

CRC_INIT = 0x82F63B78


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _table()


def crc32c(data, state=CRC_INIT):
    """The protocol's CRC32C: initial state 0x82F63B78, no final XOR."""
    t = _T
    for b in data:
        state = t[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


def packet(reqid, rec):
    """Frame record ${rec} as a packet with request ID ${reqid}."""
    hdr = struct.pack(">QI", reqid, len(rec))
    hcrc = crc32c(hdr)
    return (hdr + struct.pack("<I", hcrc) + rec +
            struct.pack("<I", crc32c(rec) ^ hcrc))


def _kv(b):
    return bytes([len(b)]) + b


def req_params():
    return struct.pack(">I", PARAMS)


def req_set(k, v):
    return struct.pack(">I", SET) + _kv(k) + _kv(v)


def req_cas(k, old, new):
    return struct.pack(">I", CAS) + _kv(k) + _kv(old) + _kv(new)


def req_add(k, v):
    return struct.pack(">I", ADD) + _kv(k) + _kv(v)


def req_modify(k, v):
    return struct.pack(">I", MODIFY) + _kv(k) + _kv(v)


def req_delete(k):
    return struct.pack(">I", DELETE) + _kv(k)


def req_cad(k, old):
    return struct.pack(">I", CAD) + _kv(k) + _kv(old)


def req_get(k):
    return struct.pack(">I", GET) + _kv(k)


def req_range(start, end, maxbytes):
    return struct.pack(">I", RANGE) + struct.pack(">I", maxbytes) + \
        _kv(start) + _kv(end)


class ProtocolError(Exception):
    pass


def parse_status(rec):
    if len(rec) != 4:
        raise ProtocolError("status record of %d bytes" % len(rec))
    st = struct.unpack(">I", rec)[0]
    if st not in (0, 1):
        raise ProtocolError("status %d" % st)
    return st


def parse_get(rec):
    """GET response: the value, or None if absent."""
    if len(rec) == 4 and parse_status(rec) == 1:
        return None
    if len(rec) < 5 or struct.unpack(">I", rec[:4])[0] != 0:
        raise ProtocolError("bad GET response %r" % rec)
    if rec[4] != len(rec) - 5:
        raise ProtocolError("bad GET value length")
    return rec[5:]


def parse_range(rec):
    """RANGE response: (next, [(key, value), ...])."""
    if len(rec) < 9:
        raise ProtocolError("short RANGE response")
    st, count = struct.unpack(">II", rec[:8])
    if st != 0:
        raise ProtocolError("RANGE status %d" % st)
    nl = rec[8]
    nxt = rec[9:9 + nl]
    pos = 9 + nl
    pairs = []
    for _ in range(count):
        kl = rec[pos]
        k = rec[pos + 1:pos + 1 + kl]
        pos += 1 + kl
        vl = rec[pos]
        v = rec[pos + 1:pos + 1 + vl]
        pos += 1 + vl
        if pos > len(rec):
            raise ProtocolError("RANGE pairs overrun")
        pairs.append((k, v))
    if pos != len(rec):
        raise ProtocolError("RANGE trailing bytes")
    return nxt, pairs


class Conn:
    """One connection to a kvlds Unix socket."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.nextid = 1
        self.buf = b""
        self.got = {}

    def close(self):
        self.s.close()

    def sendraw(self, data):
        self.s.sendall(data)

    def send(self, rec, reqid=None):
        """Send one request record; return its request ID."""
        if reqid is None:
            reqid = self.nextid
            self.nextid += 1
        self.s.sendall(packet(reqid, rec))
        return reqid

    def send_many(self, recs):
        """Send records in one write; return their IDs."""
        ids = []
        out = []
        for rec in recs:
            ids.append(self.nextid)
            out.append(packet(self.nextid, rec))
            self.nextid += 1
        self.s.sendall(b"".join(out))
        return ids

    def recv_packet(self):
        """Read one response packet: (id, record).  EOFError on close."""
        while True:
            if len(self.buf) >= 16:
                reqid, ln = struct.unpack(">QI", self.buf[:12])
                hcrc = struct.unpack("<I", self.buf[12:16])[0]
                if crc32c(self.buf[:12]) != hcrc:
                    raise ProtocolError("bad header CRC")
                if len(self.buf) >= 20 + ln:
                    rec = self.buf[16:16 + ln]
                    rcrc = struct.unpack("<I", self.buf[16 + ln:20 + ln])[0]
                    if crc32c(rec) ^ hcrc != rcrc:
                        raise ProtocolError("bad record CRC")
                    self.buf = self.buf[20 + ln:]
                    return reqid, rec
            data = self.s.recv(1 << 20)
            if not data:
                raise EOFError("connection closed")
            self.buf += data

    def wait(self, reqid):
        """Return the record answering ${reqid} (others are kept)."""
        while reqid not in self.got:
            i, rec = self.recv_packet()
            if i in self.got:
                raise ProtocolError("two responses to ID %d" % i)
            self.got[i] = rec
        return self.got.pop(reqid)

    def collect(self, ids):
        """Return {id: record} for every ID of ${ids}."""
        return {i: self.wait(i) for i in ids}

    def call(self, rec):
        return self.wait(self.send(rec))

    # Blocking helpers.
    def params(self):
        rec = self.call(req_params())
        if len(rec) != 8:
            raise ProtocolError("bad PARAMS response")
        return struct.unpack(">II", rec)

    def set(self, k, v):
        return parse_status(self.call(req_set(k, v)))

    def cas(self, k, old, new):
        return parse_status(self.call(req_cas(k, old, new)))

    def add(self, k, v):
        return parse_status(self.call(req_add(k, v)))

    def modify(self, k, v):
        return parse_status(self.call(req_modify(k, v)))

    def delete(self, k):
        return parse_status(self.call(req_delete(k)))

    def cad(self, k, old):
        return parse_status(self.call(req_cad(k, old)))

    def get(self, k):
        return parse_get(self.call(req_get(k)))

    def range(self, start, end, maxbytes):
        return parse_range(self.call(req_range(start, end, maxbytes)))

    def range_all(self, start=b"", end=b"", maxbytes=4096):
        """Every pair in [start, end), following "next"."""
        out = []
        while True:
            nxt, pairs = self.range(start, end, maxbytes)
            out.extend(pairs)
            if not nxt:
                return out
            if nxt <= start:
                raise ProtocolError("RANGE made no progress")
            start = nxt

    def is_closed(self, timeout=5):
        """True if the server closes the connection within ${timeout}."""
        self.s.settimeout(timeout)
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
