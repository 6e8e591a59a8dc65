#!/usr/bin/env python3
"""Soak: the summarize example at sample_rate 1.0 exporting to a local Zipkin
sink that is up, then down, then up again, under steady load. Loopback only,
bounded in time. Reports request errors (must be 0), p50/p99 latency per phase,
the server's RSS over time, and spans delivered vs. the layer's own counts.

    cargo build --release --example summarize --features axum,logs,zipkin
    scripts/soak.py --phase-seconds 60      # three phases: up, down, up

Standard library only. Exits non-zero if any request failed.
"""
import argparse
import http.client
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Sink:
    """A Zipkin v2 receiver on 127.0.0.1 that counts spans; can be stopped and restarted on the same port."""

    def __init__(self):
        self.spans = 0
        self.lock = threading.Lock()
        self.port = None
        self.server = None

    def start(self):
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.spans += len(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load(port, seconds, workers, results):
    """Keep-alive POST /summarize from `workers` threads; records (latency_s, ok)."""
    deadline = time.monotonic() + seconds
    body = b'{"text": "Soak tests find what unit tests miss. They run for a while."}'

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            ok = False
            try:
                conn.request("POST", "/summarize", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            results.append((time.perf_counter() - start, ok))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase-seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/examples/summarize"))
    args = ap.parse_args()

    sink = Sink()
    sink.start()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write(
        "tracing:\n  exporter_type: zipkin\n  sample_rate: 1.0\n  timeout: 2\n"
        f"  zipkin:\n    endpoint: http://127.0.0.1:{sink.port}/api/v2/spans\n"
    )
    cfg.close()
    server = subprocess.Popen(
        [args.binary, "--bind", "127.0.0.1:0", "--config", cfg.name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    stderr_lines = []
    for line in server.stderr:
        stderr_lines.append(line)
        if "listening on http://" in line:
            port = int(line.rsplit(":", 1)[1])
            break
    if port is None:
        sys.exit("the example did not start:\n" + "".join(stderr_lines))
    threading.Thread(target=lambda: stderr_lines.extend(server.stderr), daemon=True).start()

    rss = []
    stop_sampling = threading.Event()

    def sample_rss():
        t0 = time.monotonic()
        while not stop_sampling.wait(1.0):
            rss.append((time.monotonic() - t0, rss_kib(server.pid)))

    threading.Thread(target=sample_rss, daemon=True).start()

    report = []
    for name, action in [("collector up", None), ("collector down", sink.stop), ("collector up again", sink.start)]:
        if action:
            action()
        results = []
        load(port, args.phase_seconds, args.workers, results)
        lat = sorted(r[0] for r in results)
        errors = sum(1 for r in results if not r[1])
        report.append((name, len(results), errors, statistics.median(lat), lat[int(len(lat) * 0.99) - 1]))

    stop_sampling.set()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    time.sleep(0.5)
    os.unlink(cfg.name)

    print(f"{'phase':<20} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, n, errors, p50, p99 in report:
        print(f"{name:<20} {n:>9} {errors:>7} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f}")
    print("RSS (KiB) every ~10 s:", [kib for i, (_, kib) in enumerate(rss) if i % 10 == 0])
    if rss:
        print(f"RSS first/max/last: {rss[0][1]} / {max(k for _, k in rss)} / {rss[-1][1]} KiB")
    print(f"spans received by the sink: {sink.spans}")
    print("".join(l for l in stderr_lines if "tracing stats" in l).strip())
    total_errors = sum(r[2] for r in report)
    sys.exit(1 if total_errors else 0)


if __name__ == "__main__":
    main()
