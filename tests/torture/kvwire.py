"""kvwire: a small, dependency-free client for the kvlds wire protocol,
used by the torture and crash-consistency drivers.

Packets are (ID u64, length u32, CRC of those 12 bytes, record, record
CRC XOR header CRC); the CRC is CRC32C with initial state 0x82F63B78 and
no final XOR, written least-significant byte first.  Everything here is
written from the protocol description; test vectors are checked by
selftest().
"""

import errno
import os
import selectors
import socket
import struct
import time

PARAMS, SET, CAS, ADD, MODIFY = 0x100, 0x110, 0x111, 0x112, 0x113
DELETE, CAD, GET, RANGE = 0x120, 0x121, 0x130, 0x131
NAMES = {PARAMS: "PARAMS", SET: "SET", CAS: "CAS", ADD: "ADD",
         MODIFY: "MODIFY", DELETE: "DELETE", CAD: "CAD", GET: "GET",
         RANGE: "RANGE"}

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc(data):
    """CRC of ${data} as the 4 bytes sent on the wire."""
    c = 0x82F63B78
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return struct.pack("<I", c)


def _xor4(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def packet(reqid, record):
    """Frame ${record} as a packet with ID ${reqid}."""
    hdr = struct.pack(">QI", reqid, len(record))
    hc = crc(hdr)
    return hdr + hc + record + _xor4(crc(record), hc)


def _kv(*fields):
    out = b""
    for f in fields:
        out += bytes([len(f)]) + f
    return out


def request(op, *args):
    """Encode a request record: args are bytes fields, RANGE takes
    (maxbytes, start, end)."""
    if op == RANGE:
        return struct.pack(">II", op, args[0]) + _kv(args[1], args[2])
    return struct.pack(">I", op) + _kv(*args)


class ProtocolError(Exception):
    pass


def parse_packets(buf):
    """Split complete packets off the front of bytearray ${buf}; return a
    list of (id, record).  Raises ProtocolError on a bad CRC."""
    out = []
    while len(buf) >= 16:
        reqid, ln = struct.unpack(">QI", buf[0:12])
        hc = bytes(buf[12:16])
        if crc(bytes(buf[0:12])) != hc:
            raise ProtocolError("bad header CRC")
        if ln > 1 << 24:
            raise ProtocolError("absurd record length %d" % ln)
        if len(buf) < 20 + ln:
            break
        rec = bytes(buf[16:16 + ln])
        if _xor4(crc(rec), hc) != bytes(buf[16 + ln:20 + ln]):
            raise ProtocolError("bad record CRC")
        del buf[:20 + ln]
        out.append((reqid, rec))
    return out


def parse_response(op, rec):
    """Decode response record ${rec} to request type ${op}:
    PARAMS -> (maxk, maxv); GET -> (status, value or None);
    RANGE -> (status, next, [(k, v)...]); others -> status."""
    if op == PARAMS:
        if len(rec) != 8:
            raise ProtocolError("PARAMS response length %d" % len(rec))
        return struct.unpack(">II", rec)
    if len(rec) < 4:
        raise ProtocolError("short response")
    st = struct.unpack(">I", rec[:4])[0]
    if op == GET:
        if st == 1 and len(rec) == 4:
            return (1, None)
        if st != 0 or len(rec) < 5 or len(rec) != 5 + rec[4]:
            raise ProtocolError("bad GET response %r" % rec)
        return (0, rec[5:])
    if op == RANGE:
        if st != 0 or len(rec) < 9:
            raise ProtocolError("bad RANGE response")
        n = struct.unpack(">I", rec[4:8])[0]
        p = 8
        nl = rec[p]
        nxt = rec[p + 1:p + 1 + nl]
        p += 1 + nl
        pairs = []
        for _ in range(n):
            kl = rec[p]
            k = rec[p + 1:p + 1 + kl]
            p += 1 + kl
            vl = rec[p]
            v = rec[p + 1:p + 1 + vl]
            p += 1 + vl
            pairs.append((k, v))
        if p != len(rec):
            raise ProtocolError("RANGE response length mismatch")
        return (st, nxt, pairs)
    if len(rec) != 4 or st not in (0, 1):
        raise ProtocolError("bad status response %r" % rec)
    return st


def connect(addr, timeout=None):
    """A connected socket to ${addr}: a Unix socket path, a (host, port)
    tuple, or "tcp:PORT" / "unix:PATH"."""
    if isinstance(addr, str) and addr.startswith("tcp:"):
        addr = ("127.0.0.1", int(addr[4:]))
    elif isinstance(addr, str) and addr.startswith("unix:"):
        addr = addr[5:]
    fam = socket.AF_INET if isinstance(addr, tuple) else socket.AF_UNIX
    s = socket.socket(fam, socket.SOCK_STREAM)
    if timeout is not None:
        s.settimeout(timeout)
    try:
        s.connect(addr)
    except OSError:
        s.close()
        raise
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Conn:
    """A non-blocking pipelined connection.  send() queues a request with
    a callback cb(result) (result None when the connection died first);
    a Loop drives the I/O."""

    def __init__(self, loop, path):
        self.loop = loop
        self.sock = connect(path)
        self.sock.setblocking(False)
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.pending = {}
        self.nextid = 1
        self.dead = False
        self.error = None
        loop.add(self)

    def send(self, op, args, cb):
        if self.dead:
            cb(None)
            return
        rid = self.nextid
        self.nextid += 1
        self.pending[rid] = (op, cb)
        self.wbuf += packet(rid, request(op, *args))
        self.loop.want_write(self)

    def on_readable(self):
        try:
            d = self.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.close(str(e))
            return
        if not d:
            self.close("EOF")
            return
        self.rbuf += d
        try:
            pkts = parse_packets(self.rbuf)
            for rid, rec in pkts:
                if rid not in self.pending:
                    raise ProtocolError("response to unknown ID %d" % rid)
                op, cb = self.pending.pop(rid)
                cb(parse_response(op, rec))
        except ProtocolError as e:
            self.loop.protocol_errors.append(str(e))
            self.close("protocol error: %s" % e)

    def on_writable(self):
        try:
            n = self.sock.send(self.wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.close(str(e))
            return
        del self.wbuf[:n]
        if not self.wbuf:
            self.loop.no_write(self)

    def close(self, why="closed"):
        if self.dead:
            return
        self.dead = True
        self.error = why
        self.loop.remove(self)
        try:
            self.sock.close()
        except OSError:
            pass
        pend = self.pending
        self.pending = {}
        for _, (_, cb) in sorted(pend.items()):
            cb(None)


class Loop:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.conns = set()
        self.protocol_errors = []

    def add(self, c):
        self.conns.add(c)
        self.sel.register(c.sock, selectors.EVENT_READ, c)

    def remove(self, c):
        if c in self.conns:
            self.conns.discard(c)
            self.sel.unregister(c.sock)

    def want_write(self, c):
        if c in self.conns:
            self.sel.modify(c.sock, selectors.EVENT_READ |
                            selectors.EVENT_WRITE, c)

    def no_write(self, c):
        if c in self.conns:
            self.sel.modify(c.sock, selectors.EVENT_READ, c)

    def run_once(self, timeout=0.05):
        if not self.conns:
            time.sleep(min(timeout, 0.01))
            return
        for key, ev in self.sel.select(timeout):
            c = key.data
            if ev & selectors.EVENT_READ and not c.dead:
                c.on_readable()
            if ev & selectors.EVENT_WRITE and not c.dead:
                c.on_writable()

    def run_until(self, pred, timeout):
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                return False
            self.run_once(0.05)
        return True


class Sync:
    """A blocking one-request-at-a-time client over a Loop connection."""

    def __init__(self, path, timeout=30):
        self.loop = Loop()
        self.c = Conn(self.loop, path)
        self.timeout = timeout

    def call(self, op, *args):
        box = []
        self.c.send(op, args, box.append)
        if not self.loop.run_until(lambda: box, self.timeout):
            raise TimeoutError("no answer to %s in %ds" %
                               (NAMES[op], self.timeout))
        if box[0] is None:
            raise ConnectionError("connection lost: %s" % self.c.error)
        return box[0]

    def range_all(self, start=b"", end=b"", maxbytes=0):
        """Every pair in [start, end) by paginated RANGE; checks order,
        bounds and progress.  Returns the list of (k, v)."""
        out = []
        cur = start
        while True:
            st, nxt, pairs = self.call(RANGE, maxbytes, cur, end)
            prev = out[-1][0] if out else None
            for k, v in pairs:
                if k < cur or (end and k >= end):
                    raise AssertionError("RANGE returned %r outside [%r,%r)"
                                         % (k, cur, end))
                if prev is not None and k <= prev:
                    raise AssertionError("RANGE not sorted: %r after %r"
                                         % (k, prev))
                prev = k
            out.extend(pairs)
            if not nxt:
                return out
            if pairs and nxt <= pairs[-1][0]:
                raise AssertionError("RANGE next %r not past last key %r"
                                     % (nxt, pairs[-1][0]))
            if nxt <= cur:
                raise AssertionError("RANGE made no progress at %r" % cur)
            cur = nxt

    def close(self):
        self.c.close()


def wait_socket(path, timeout=20, proc=None):
    """Wait until Unix socket ${path} accepts; False on timeout or if
    ${proc} (a Popen) exits first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.close()
            return True
        except OSError as e:
            s.close()
            if e.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                raise
        time.sleep(0.005)
    return False


SANITIZER_RE = (r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                r"runtime error:|ERROR: ThreadSanitizer")


def sanitizer_report(path):
    """The first sanitizer report line in the log file ${path}, or None."""
    import re
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if re.search(SANITIZER_RE, line):
                    return line.strip()
    except OSError:
        pass
    return None


def selftest():
    vec = {b"": "783bf682", b"hello world": "ca130baa",
           b"123456789": "0491fc22", bytes(12): "18eab818",
           bytes(32): "1d53259c"}
    for k, v in vec.items():
        assert crc(k).hex() == v, (k, crc(k).hex())
    assert packet(1, request(PARAMS)).hex() == \
        "000000000000000100000004ab1233e700000100805f339a"
    assert packet(2, request(SET, b"a", b"b")).hex() == \
        "0000000000000002000000088f6d43e20000011001610162475a43e9"
    r = bytes.fromhex("0000000000000001000000087bdd70aa000000ff000000ff"
                      "62e50d01")
    pk = parse_packets(bytearray(r))
    assert pk == [(1, bytes.fromhex("000000ff000000ff"))]
    assert parse_response(PARAMS, pk[0][1]) == (255, 255)


if __name__ == "__main__":
    selftest()
    print("kvwire selftest ok")
