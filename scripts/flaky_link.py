#!/usr/bin/env python3
"""Delivery over a flaky link (issue 20): the summarize example exports OTLP/HTTP
to a local receiver through a proxy that fails one request in six, in turn:

    connection reset | 3 s stall | garbage answer | truncated answer

Everything is on 127.0.0.1 and bounded in time:

  - the receiver decodes each ExportTraceServiceRequest (gzip or not) just
    enough to count its spans, and the distinct ones (a retried batch arrives
    again, byte for byte);
  - the proxy reads each whole request (Content-Length) and decides its fate by
    a count shared over all connections: requests 6, 12, 18, ... get the next
    fault of the cycle, the others pass on a persistent upstream connection.
    The reset closes with RST before anything reaches the receiver; the stall
    holds the request 3 s, then passes it on (a collector that hung: it does
    get the batch, late); the garbage answer is a few bytes that are not HTTP,
    then a close; the truncated answer is the first half of the receiver's
    answer, then a clean close (the receiver did get the batch);
  - the load is a fixed rate of `POST /summarize` on keep-alive connections
    from a few threads, for a fixed time; a request that would start more than
    one period late is skipped, never queued up. Every answer is checked: 200,
    and the body the example answers to that text.

At the end the example is stopped (SIGTERM: it flushes what is queued within
its shutdown) and prints its span stats, and the script prints

    delivered = exported / started    (and what the receiver counted)

with the invariant started == exported + dropped + failed + queued + discarded
+ overflowed checked.

    cargo build --release --example summarize --features axum,logs,viewer,otlp
    scripts/flaky_link.py                       # faults on, 20 s
    scripts/flaky_link.py --clean               # the same proxy, no faults
    scripts/flaky_link.py --runs 5 --json out.json

Standard library only. Exits non-zero if a request was answered wrongly or the
invariant does not hold.
"""
import argparse
import gzip
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULTS = ["reset", "stall", "garbage", "truncate"]
GARBAGE = b"\x16\x03\x01\xff\xff garbage \x00\x01\x02\xde\xad\xbe\xef\r\n\r\nNOT HTTP\r\n"
STALL_S = 3.0
TEXT = "The model reads this. It answers with the first sentence only."
ANSWER = b"The model reads this.\n"


# --- HTTP/1.1 framing (Content-Length only: all parties here use it) --------


def read_message(sock, buf):
    """One HTTP message (head + Content-Length body) from `sock`, after what is
    already in `buf`. Returns (message bytes, rest of buf) or (None, b"") on EOF."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = end + 4 + length
            while len(buf) < total:
                chunk = sock.recv(max(65536, total - len(buf)))
                if not chunk:
                    return None, b""
                buf += chunk
            return buf[:total], buf[total:]
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk


def rst_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


# --- The receiver ------------------------------------------------------------


def varint(b, i):
    shift = result = 0
    while True:
        byte = b[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def fields(b, start, end):
    """(field number, wire type, value start, value end) of a message's fields;
    only length-delimited ones matter here, the rest are skipped."""
    i = start
    while i < end:
        key, i = varint(b, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(b, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(b, i)
            yield number, i, i + n
            i += n
        else:
            raise ValueError(f"wire type {wire}")


def span_slices(body):
    """Every Span of an ExportTraceServiceRequest, as (start, end) in `body`."""
    for n1, s1, e1 in fields(body, 0, len(body)):  # resource_spans
        if n1 != 1:
            continue
        for n2, s2, e2 in fields(body, s1, e1):  # scope_spans
            if n2 != 2:
                continue
            for n3, s3, e3 in fields(body, s2, e2):  # spans
                if n3 == 2:
                    yield s3, e3


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.spans = 0
        self.posts = 0
        self.seen = set()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = b""
        try:
            while True:
                msg, buf = read_message(conn, buf)
                if msg is None:
                    return
                end = msg.find(b"\r\n\r\n")
                body = msg[end + 4 :]
                if b"content-encoding: gzip" in msg[:end].lower():
                    body = gzip.decompress(body)
                spans = [body[s:e] for s, e in span_slices(body)]
                with self.lock:
                    self.posts += 1
                    self.spans += len(spans)
                    self.seen.update(hash(s) for s in spans)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
        except OSError:
            pass
        finally:
            conn.close()

    def counts(self):
        with self.lock:
            return self.posts, self.spans, len(self.seen)


# --- The proxy ----------------------------------------------------------------


class Proxy:
    def __init__(self, upstream_port, faulty):
        self.upstream = ("127.0.0.1", upstream_port)
        self.faulty = faulty
        self.lock = threading.Lock()
        self.requests = 0
        self.applied = {f: 0 for f in FAULTS}
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def fate(self):
        with self.lock:
            self.requests += 1
            n = self.requests
            if not self.faulty or n % 6:
                return None
            fault = FAULTS[(n // 6 - 1) % len(FAULTS)]
            self.applied[fault] += 1
            return fault

    def accept(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, client):
        up = None
        up_buf = b""
        buf = b""
        try:
            while True:
                request, buf = read_message(client, buf)
                if request is None:
                    return
                fault = self.fate()
                if fault == "reset":
                    rst_close(client)
                    return
                if fault == "garbage":
                    client.sendall(GARBAGE)
                    client.shutdown(socket.SHUT_WR)
                    client.close()
                    return
                if fault == "stall":
                    time.sleep(STALL_S)
                if up is None:
                    up = socket.create_connection(self.upstream)
                    up_buf = b""
                up.sendall(request)
                answer, up_buf = read_message(up, up_buf)
                if answer is None:
                    rst_close(client)
                    return
                if fault == "truncate":
                    client.sendall(answer[: len(answer) // 2])
                    client.shutdown(socket.SHUT_RDWR)
                    client.close()
                    return
                client.sendall(answer)
        except OSError:
            pass
        finally:
            client.close()
            if up is not None:
                up.close()


# --- The load -----------------------------------------------------------------


class Load:
    def __init__(self, port, rate, threads, seconds):
        self.port = port
        self.rate = rate
        self.threads = threads
        self.seconds = seconds
        self.lock = threading.Lock()
        self.ok = 0
        self.wrong = 0
        self.skipped = 0
        self.errors = []
        body = TEXT.encode()
        self.request = (
            b"POST /summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    def run(self):
        start = time.monotonic() + 0.2
        workers = [
            threading.Thread(target=self.worker, args=(start, k), daemon=True)
            for k in range(self.threads)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def worker(self, start, k):
        period = self.threads / self.rate
        end = start + self.seconds
        due = start + k * period / self.threads
        ok = wrong = skipped = 0
        sock = None
        buf = b""
        while due < end:
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            elif now > due + period:
                # Late by more than a period: skip, never build a backlog.
                missed = int((now - due) / period)
                skipped += missed
                due += missed * period
                continue
            due += period
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buf = b""
                sock.sendall(self.request)
                answer, buf = read_message(sock, buf)
                if answer is None:
                    raise OSError("connection closed")
                head, _, body = answer.partition(b"\r\n\r\n")
                if head.startswith(b"HTTP/1.1 200") and body == ANSWER:
                    ok += 1
                else:
                    wrong += 1
                    self.note(f"answer {head[:40]!r} {body[:60]!r}")
            except OSError as e:
                wrong += 1
                self.note(f"request failed: {e}")
                if sock is not None:
                    sock.close()
                sock = None
        if sock is not None:
            sock.close()
        with self.lock:
            self.ok += ok
            self.wrong += wrong
            self.skipped += skipped

    def note(self, what):
        with self.lock:
            if len(self.errors) < 5:
                self.errors.append(what)


# --- One run --------------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, proc, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the example exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the example never became ready")


def parse_stats(stderr):
    for line in stderr.splitlines():
        if line.startswith("tracing stats:"):
            return {
                k: int(v) for k, v in (kv.split("=") for kv in line.split(":", 1)[1].split())
            }
    raise RuntimeError("no stats line:\n" + stderr[-2000:])


def one_run(args, faulty):
    receiver = Receiver()
    proxy = Proxy(receiver.port, faulty)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "flaky.yaml")
        with open(config, "w") as f:
            f.write(
                "tracing:\n  exporter_type: otlp\n  sample_rate: 1.0\n"
                f"  timeout: {args.timeout}\n  otlp:\n    protocol: http\n"
                f"    endpoint: http://127.0.0.1:{proxy.port}/v1/traces\n"
            )
        env = dict(os.environ)
        env.update(args.env)
        # The example logs every request (to stderr, with the stats line last): a
        # file, never a pipe nobody reads while the load runs.
        log = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen(
            [args.binary, "--bind", f"127.0.0.1:{port}", "--config", config],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        try:
            wait_ready(port, proc)
            load = Load(port, args.rate, args.threads, args.seconds)
            t0 = time.monotonic()
            load.run()
            elapsed = time.monotonic() - t0
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        stderr = log.read()
        log.close()
    stats = parse_stats(stderr)
    # The receiver may still be reading the last flush: let it finish.
    time.sleep(0.3)
    posts, received, unique = receiver.counts()
    s = stats
    accounted = (
        s["exported"] + s["dropped"] + s["failed"] + s["queued"] + s["discarded"] + s["overflowed"]
    )
    return {
        "faults": faulty,
        "requests_ok": load.ok,
        "requests_wrong": load.wrong,
        "requests_skipped": load.skipped,
        "errors": load.errors,
        "seconds": round(elapsed, 2),
        "spans_per_s": round(s["started"] / elapsed),
        "stats": s,
        "invariant": s["started"] == accounted,
        "delivered": s["exported"] / max(1, s["started"]),
        "receiver_posts": posts,
        "receiver_spans": received,
        "receiver_unique": unique,
        "received": unique / max(1, s["started"]),
        "proxy_requests": proxy.requests,
        "proxy_faults": dict(proxy.applied),
    }


def show(r):
    s = r["stats"]
    print(
        f"{'faults' if r['faults'] else 'clean '}: {r['spans_per_s']:>6} spans/s "
        f"delivered {100 * r['delivered']:5.1f}% (receiver: {100 * r['received']:5.1f}% "
        f"distinct, {r['receiver_spans'] - r['receiver_unique']} copies) | started={s['started']} "
        f"exported={s['exported']} dropped={s['dropped']} failed={s['failed']} "
        f"queued={s['queued']} | invariant {'ok' if r['invariant'] else 'BROKEN'} | "
        f"requests ok={r['requests_ok']} wrong={r['requests_wrong']} "
        f"skipped={r['requests_skipped']} | proxy {r['proxy_requests']} posts, "
        f"faults {r['proxy_faults']}",
        flush=True,
    )
    for e in r["errors"]:
        print("   ", e)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--binary", default=os.path.join(ROOT, "target/release/examples/summarize")
    )
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument(
        "--rate",
        type=float,
        default=1700.0,
        help="requests/s (summarize records 5 spans each: 1700/s is 8,500 spans/s)",
    )
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--timeout", type=float, default=2.0, help="the example's export timeout (s)")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--clean", action="store_true", help="no faults (the reference)")
    p.add_argument("--both", action="store_true", help="alternate faulty and clean runs")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for the example")
    p.add_argument("--json", help="append each run's result to this file (JSON lines)")
    args = p.parse_args()
    args.env = dict(e.split("=", 1) for e in args.env)
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} missing: cargo build --release --example summarize "
                 "--features axum,logs,viewer,otlp")
    modes = [True, False] if args.both else [not args.clean]
    results = []
    failed = False
    for _ in range(args.runs):
        for faulty in modes:
            r = one_run(args, faulty)
            r["binary"] = args.binary
            show(r)
            results.append(r)
            failed |= r["requests_wrong"] > 0 or not r["invariant"]
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")
    for faulty in modes:
        d = [r["delivered"] for r in results if r["faults"] == faulty]
        if len(d) > 1:
            print(
                f"{'faults' if faulty else 'clean'}: median delivered "
                f"{100 * statistics.median(d):.1f}% over {len(d)} runs "
                f"({', '.join(f'{100 * x:.1f}' for x in d)})"
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
