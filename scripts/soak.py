#!/usr/bin/env python3
"""Soak: the summarize example at sample_rate 1.0 exporting to a local Zipkin
sink under steady load, while the sink goes through five phases of equal length
(`--phases` picks others):

    up -> down (port closed) -> up -> flapping (up/down every few s) -> slow

Loopback only, bounded in time. Samples request latency (p50/p99 per 10 s
window) and the server's RSS (every second), draws both over time to an SVG,
and checks, at the end:
  - request errors: 0 (any status but 200, any transport error or timeout);
  - RSS flat after warm-up: the highest RSS in the last third of the run after
    warm-up exceeds the highest in its first third by at most --rss-tolerance-mib;
  - the accounting invariant on the stats the example prints at shutdown:
    started == exported + dropped + failed + queued + discarded + overflowed,
    and the sink received no fewer spans than exported, no more than
    exported + failed.
Latency is reported, never judged (the machine may be shared).

    cargo build --release --example summarize --features axum,logs,viewer,zipkin
    scripts/soak.py --minutes 30 --svg docs/soak.svg

Standard library only. Exits non-zero if any check fails.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW_S = 10.0


class Sink:
    """A Zipkin v2 receiver on 127.0.0.1 that counts spans. It can be stopped
    (connections refused) and restarted on the same port, and slowed down (each
    answer waits `delay` seconds after the body was read)."""

    def __init__(self):
        self.spans = 0
        self.posts = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.port = None
        self.server = None

    def start(self):
        if self.server is not None:
            return
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.spans += len(json.loads(body))
                    sink.posts += 1
                    delay = sink.delay
                if delay:
                    time.sleep(delay)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        # HTTPServer sets SO_REUSEADDR, so the same port binds again after a stop.
        for attempt in range(50):
            try:
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None


def rss_kib(pid, field="VmRSS:"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values))) - 1))
    return sorted_values[i]


def load(port, deadline, workers, rate, t0, results):
    """Keep-alive POST /summarize from `workers` threads, `rate` requests/s in all
    (0: as fast as they go); records (start offset s, latency s, ok)."""
    body = b'{"text": "Soak tests find what unit tests miss. They run for a while."}'
    interval = workers / rate if rate > 0 else 0.0

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        next_at = time.monotonic() + interval * k / workers
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if interval:
                if next_at > now:
                    time.sleep(next_at - now)
                # Behind schedule (a stall, a busy machine): start again from now
                # rather than sending a burst to catch up.
                next_at = max(next_at + interval, time.monotonic())
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
            results.append((start - t0, time.perf_counter() - start, ok))
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    return threads


def run_phases(sink, phases, flap_seconds, slow_delay, t0, marks):
    """Drives the sink through the phases; records (name, start, end) offsets."""
    for name, seconds in phases:
        start = time.perf_counter() - t0
        end_at = time.monotonic() + seconds
        if name == "down":
            sink.stop()
        elif name == "slow":
            sink.delay = slow_delay
            sink.start()
        else:
            sink.delay = 0.0
            sink.start()
        if name == "flapping":
            up = True
            while time.monotonic() < end_at:
                time.sleep(max(0.0, min(flap_seconds, end_at - time.monotonic())))
                if time.monotonic() >= end_at:
                    break
                if up:
                    sink.stop()
                else:
                    sink.start()
                up = not up
            sink.start()
        else:
            time.sleep(max(0.0, end_at - time.monotonic()))
        marks.append((name, start, time.perf_counter() - t0))


def windows(results, total_s):
    """(window start s, requests, errors, p50 s, p99 s) per WINDOW_S."""
    n = int(total_s // WINDOW_S) + 1
    buckets = [[] for _ in range(n)]
    errs = [0] * n
    for t, lat, ok in results:
        i = min(n - 1, max(0, int(t // WINDOW_S)))
        buckets[i].append(lat)
        if not ok:
            errs[i] += 1
    out = []
    for i, b in enumerate(buckets):
        if not b:
            continue
        b.sort()
        out.append((i * WINDOW_S, len(b), errs[i], percentile(b, 0.50), percentile(b, 0.99)))
    return out


def parse_stats(lines):
    for line in lines:
        if "tracing stats:" in line:
            fields = {}
            for part in line.split("tracing stats:", 1)[1].split():
                if "=" in part:
                    k, v = part.split("=", 1)
                    fields[k] = int(v)
            return fields
    return None


def svg_plot(path, wins, rss, marks, title):
    """Two panels on one time axis: p50/p99 latency (log scale) and RSS, with the
    phases shaded. Hand-written SVG, no plotting library."""
    import math

    width, left, right = 960, 70, 20
    panel_h, top, gap = 230, 50, 60
    plot_w = width - left - right
    total = max([m[2] for m in marks] + [1.0])
    height = top + 2 * panel_h + gap + 60
    out = []
    add = out.append
    add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">')
    add(f'<rect width="{width}" height="{height}" fill="white"/>')
    add(f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>')

    def x_of(t):
        return left + plot_w * t / total

    shades = {"up": "#e8f5e9", "down": "#ffebee", "flapping": "#fff8e1", "slow": "#e3f2fd"}
    panels = [(top, "latency per 10 s window (ms, log scale)"), (top + panel_h + gap, "server RSS (MiB)")]
    for y0, label in panels:
        for name, a, b in marks:
            key = "up" if name.startswith("up") else name
            add(f'<rect x="{x_of(a):.1f}" y="{y0}" width="{x_of(b) - x_of(a):.1f}" height="{panel_h}" '
                f'fill="{shades.get(key, "#eeeeee")}"/>')
            add(f'<text x="{(x_of(a) + x_of(b)) / 2:.1f}" y="{y0 + 14}" text-anchor="middle" '
                f'fill="#555">{escape(name)}</text>')
        add(f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_h}" fill="none" stroke="#333"/>')
        add(f'<text x="{left}" y="{y0 - 8}" font-weight="bold">{escape(label)}</text>')
        # Minute ticks.
        step = 60 * max(1, int(math.ceil(total / 60 / 15)))
        t = 0.0
        while t <= total + 0.001:
            x = x_of(t)
            add(f'<line x1="{x:.1f}" y1="{y0 + panel_h}" x2="{x:.1f}" y2="{y0 + panel_h + 4}" stroke="#333"/>')
            add(f'<text x="{x:.1f}" y="{y0 + panel_h + 16}" text-anchor="middle">{int(t // 60)}</text>')
            t += step
    add(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">minutes</text>')

    # Latency, log scale.
    y0 = panels[0][0]
    lat_ms = [v * 1000 for w in wins for v in (w[3], w[4]) if v > 0]
    if lat_ms:
        lo = 10 ** math.floor(math.log10(min(lat_ms)))
        hi = 10 ** math.ceil(math.log10(max(lat_ms)))
        if hi <= lo:
            hi = lo * 10

        def y_lat(ms):
            ms = max(ms, lo)
            return y0 + panel_h - panel_h * (math.log10(ms) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

        d = lo
        while d <= hi * 1.0001:
            y = y_lat(d)
            add(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ccc"/>')
            add(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{d:g}</text>')
            d *= 10
        for idx, color, name in [(3, "#1565c0", "p50"), (4, "#c62828", "p99")]:
            pts = " ".join(
                f"{x_of(min(w[0] + WINDOW_S / 2, total)):.1f},{y_lat(w[idx] * 1000):.1f}" for w in wins
            )
            add(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        add(f'<text x="{left + plot_w - 90}" y="{y0 - 8}" fill="#1565c0">p50</text>')
        add(f'<text x="{left + plot_w - 50}" y="{y0 - 8}" fill="#c62828">p99</text>')

    # RSS, linear from 0.
    y0 = panels[1][0]
    if rss:
        top_mib = max(k for _, k in rss) / 1024 * 1.15
        step = nice_step(top_mib / 5)

        def y_rss(mib):
            return y0 + panel_h - panel_h * mib / top_mib

        v = 0.0
        while v <= top_mib:
            y = y_rss(v)
            add(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ccc"/>')
            add(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
            v += step
        pts = " ".join(f"{x_of(min(t, total)):.1f},{y_rss(k / 1024):.1f}" for t, k in rss)
        add(f'<polyline points="{pts}" fill="none" stroke="#2e7d32" stroke-width="1.5"/>')
    add("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def nice_step(raw):
    import math

    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5, help="whole run, split into equal phases (default 5)")
    ap.add_argument("--phase-seconds", type=float, help="length of each phase (overrides --minutes)")
    ap.add_argument("--phases", default="up,down,up,flapping,slow", help="the collector's states in turn")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rate", type=float, default=500, help="requests/s in all; 0 = as fast as the workers go")
    ap.add_argument("--flap-seconds", type=float, default=3, help="flapping: seconds up, then as long down")
    ap.add_argument("--slow-delay", type=float, default=1.0, help="slow: seconds each export waits (timeout is 2)")
    ap.add_argument("--warmup-seconds", type=float, help="excluded from the RSS check (default: 10%% of the run, at least 30 s)")
    ap.add_argument("--rss-tolerance-mib", type=float, default=8.0)
    ap.add_argument("--svg", help="write the latency and RSS plot here")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/examples/summarize"))
    args = ap.parse_args()

    names = [n.strip() for n in args.phases.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("up", "down", "flapping", "slow")]
    if not names or unknown:
        sys.exit(f"--phases: up, down, flapping or slow, comma-separated (got {args.phases!r})")
    phase_s = args.phase_seconds if args.phase_seconds else args.minutes * 60 / len(names)
    labels = [n if n != "up" or names[:i].count("up") == 0 else "up again" for i, n in enumerate(names)]
    phases = [(label, phase_s) for label in labels]
    total_s = phase_s * len(phases)
    warmup_s = args.warmup_seconds if args.warmup_seconds is not None else max(30.0, total_s * 0.10)

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

    # The example logs a line per request; keep only the others (warnings, the
    # stats at shutdown), or a long run would hold every line in memory.
    per_request_lines = [0]

    def read_stderr():
        for line in server.stderr:
            if "summarized" in line:
                per_request_lines[0] += 1
            else:
                stderr_lines.append(line)

    threading.Thread(target=read_stderr, daemon=True).start()

    t0 = time.perf_counter()
    rss = []
    stop_sampling = threading.Event()

    def sample_rss():
        while not stop_sampling.wait(1.0):
            rss.append((time.perf_counter() - t0, rss_kib(server.pid)))

    threading.Thread(target=sample_rss, daemon=True).start()

    loadavg = []
    results = []
    marks = []
    deadline = time.monotonic() + total_s
    workers = load(port, deadline, args.workers, args.rate, t0, results)
    phase_thread = threading.Thread(
        target=run_phases, args=(sink, phases, args.flap_seconds, args.slow_delay, t0, marks)
    )
    phase_thread.start()
    while phase_thread.is_alive():
        phase_thread.join(timeout=30)
        with open("/proc/loadavg") as f:
            loadavg.append(float(f.read().split()[0]))
    for w in workers:
        w.join()

    hwm_kib = rss_kib(server.pid, "VmHWM:")
    stop_sampling.set()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    time.sleep(0.5)
    sink.stop()
    os.unlink(cfg.name)

    failures = []
    wins = windows(results, total_s)
    print(f"{'phase':<12} {'seconds':>8} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, a, b in marks:
        lat = sorted(r[1] for r in results if a <= r[0] < b)
        errors = sum(1 for r in results if a <= r[0] < b and not r[2])
        print(f"{name:<12} {b - a:>8.0f} {len(lat):>9} {errors:>7} "
              f"{percentile(lat, 0.5) * 1000:>8.2f} {percentile(lat, 0.99) * 1000:>8.2f}")
    total_errors = sum(1 for r in results if not r[2])
    print(f"requests: {len(results)}, errors: {total_errors}")
    if total_errors:
        failures.append(f"{total_errors} requests failed")

    # RSS: flat after warm-up.
    after = [(t, k) for t, k in rss if t >= warmup_s]
    if len(after) >= 3:
        span = after[-1][0] - after[0][0]
        first = [k for t, k in after if t <= after[0][0] + span / 3]
        last = [k for t, k in after if t >= after[-1][0] - span / 3]
        growth_mib = (max(last) - max(first)) / 1024
        n = len(after)
        mt = sum(t for t, _ in after) / n
        mk = sum(k for _, k in after) / n
        var = sum((t - mt) ** 2 for t, _ in after) or 1.0
        slope = sum((t - mt) * (k - mk) for t, k in after) / var * 60
        print(f"RSS (MiB): at start {rss[0][1] / 1024:.1f}, end of warm-up ({warmup_s:.0f} s) "
              f"{after[0][1] / 1024:.1f}, max {max(k for _, k in rss) / 1024:.1f}, "
              f"last {rss[-1][1] / 1024:.1f}, VmHWM {hwm_kib / 1024:.1f}")
        print(f"RSS after warm-up: max of last third - max of first third = {growth_mib:+.2f} MiB "
              f"(tolerance {args.rss_tolerance_mib} MiB); trend {slope:+.1f} KiB/min")
        if growth_mib > args.rss_tolerance_mib:
            failures.append(f"RSS grew {growth_mib:.2f} MiB after warm-up")
    else:
        failures.append("too few RSS samples after warm-up")

    # The invariant, on the stats printed at shutdown.
    stats = parse_stats(stderr_lines)
    print(f"spans received by the sink: {sink.spans} in {sink.posts} posts")
    if stats is None:
        failures.append("the example printed no 'tracing stats' line")
    else:
        print("tracing stats:", " ".join(f"{k}={v}" for k, v in stats.items()))
        terms = ["exported", "dropped", "failed", "queued", "discarded", "overflowed"]
        accounted = sum(stats.get(k, 0) for k in terms)
        print(f"invariant: started {stats.get('started')} == {' + '.join(terms)} = {accounted}")
        if stats.get("started") != accounted:
            failures.append("invariant: started != exported + dropped + failed + queued + discarded + overflowed")
        if stats.get("queued", 0) != 0:
            failures.append(f"{stats['queued']} spans still queued after shutdown")
        exported, failed = stats.get("exported", 0), stats.get("failed", 0)
        if not exported <= sink.spans <= exported + failed:
            failures.append(f"sink got {sink.spans} spans: not within exported..exported+failed")
    if loadavg:
        print(f"1-min load average during the run: min {min(loadavg):.2f}, "
              f"median {sorted(loadavg)[len(loadavg) // 2]:.2f}, max {max(loadavg):.2f} "
              f"on {os.cpu_count()} CPUs")
    print(f"per-request log lines: {per_request_lines[0]}; other stderr lines: {len(stderr_lines)}")
    notable = [line for line in stderr_lines if "WARN" in line or "ERROR" in line or "panick" in line]
    for line in notable[:8]:
        print("  server:", re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()[:300])
    if len(notable) > 8:
        print(f"  server: ... {len(notable) - 8} more warnings")

    if args.svg:
        title = (f"soak: {total_s / 60:.0f} min, {args.rate:g} req/s, summarize example -> Zipkin sink "
                 f"({len(results)} requests, {total_errors} errors)")
        svg_plot(args.svg, wins, rss, marks, title)
        print(f"plot: {args.svg}")

    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print("PASS: errors 0, RSS flat after warm-up, invariant holds")


if __name__ == "__main__":
    main()
