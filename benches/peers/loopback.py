#!/usr/bin/env python3
"""Loopback load test: requests/s and latency of each stack over real HTTP/1.1.

The server (one current-thread runtime) is pinned to one core and wrk to the other;
127.0.0.1 only; every run is bounded by wrk's duration and a kill timeout. Stacks are
interleaved within each repetition and the ratio to bare is taken per repetition,
because wall-clock throughput on a shared 2-core machine drifts between runs.
Every stack exports to a no-op exporter, as in-process; a name ending in `+zipkin` or
`+otlp` (e.g. `ours_rate1+zipkin`) makes this crate's layer export Zipkin JSON or OTLP
protobuf over HTTP to a local receiver instead, so the export work shows too.

    python3 benches/peers/loopback.py [--reps 3] [--duration 5] [--json out.json] [stack ...]

A stack written `ours_rate1@/tmp/old/serve` runs on that `serve` build instead, so two
builds can be compared within each repetition.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = ["bare", "ours_rate0", "ours_rate1", "ours_rate1+zipkin", "ours_rate1+otlp",
           "ours_rate1_server_only",
           "tower_http_sampled", "axum_tracing_otel_sampled", "tower_otel_sampled",
           "otel_instrumentation_tower_sampled", "fastrace_sampled", "fastrace_tree_sampled"]
LUA = """wrk.method = "POST"
wrk.body = '{"text": "The quick brown fox jumps over the dog."}'
wrk.headers["Content-Type"] = "application/json"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def stop(proc):
    """SIGTERM (the server flushes and exits), then SIGKILL if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pinned(core, cmd):
    return (["taskset", "-c", str(core)] + cmd) if shutil.which("taskset") else cmd


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]


def run_wrk(port, duration, connections, lua):
    out = subprocess.run(pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{duration}s",
                                    "--latency", "-s", lua,
                                    f"http://127.0.0.1:{port}/summarize"]),
                         capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses:\n{out}")
    return rps, to_ms(lat["50"]), to_ms(lat["99"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--json")
    ap.add_argument("--binary", help="an already built `serve` (e.g. of an older commit)")
    ap.add_argument("stacks", nargs="*")
    args = ap.parse_args()
    stacks = args.stacks or DEFAULT
    if "bare" not in stacks:
        stacks.insert(0, "bare")
    if args.binary:
        serve = args.binary
    else:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "peers", "--bin", "serve"],
                       cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        serve = os.path.join(target, "release", "serve")
    tmp = tempfile.mkdtemp()
    lua = os.path.join(tmp, "post.lua")
    with open(lua, "w") as fh:
        fh.write(LUA)
    rport = free_port()
    receiver = subprocess.Popen(pinned(1, [serve, "receiver", str(rport)]),
                                stdout=subprocess.DEVNULL)
    results = {s: [] for s in stacks}
    try:
        wait_listening(rport)
        export = {"zipkin": ["--zipkin", f"http://127.0.0.1:{rport}/api/v2/spans"],
                  "otlp": ["--otlp", f"http://127.0.0.1:{rport}/v1/traces"], "": []}
        for rep in range(args.reps):
            for stack in stacks:
                port = free_port()
                # `stack@/path/to/serve` runs that stack on another build (A/B in one run).
                spec, _, binary = stack.partition("@")
                name, _, exporter = spec.partition("+")
                cmd = [binary or serve, name, str(port)] + export[exporter]
                server = subprocess.Popen(pinned(0, cmd), stdout=subprocess.DEVNULL)
                try:
                    wait_listening(port)
                    run_wrk(port, 1, args.connections, lua)  # warm-up
                    rps, p50, p99 = run_wrk(port, args.duration, args.connections, lua)
                finally:
                    stop(server)
                results[stack].append((rps, p50, p99))
                print(f"rep {rep + 1} {stack:40} {rps:>10,.0f} req/s  p50 {p50:.3f} ms  "
                      f"p99 {p99:.3f} ms", file=sys.stderr, flush=True)
    finally:
        stop(receiver)
        shutil.rmtree(tmp, ignore_errors=True)
    bare = results["bare"]
    print("| stack | requests/s (median) | vs bare (median of per-run ratios) | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    table = {}
    for stack, runs in results.items():
        ratio = statistics.median(r[0] / b[0] for r, b in zip(runs, bare))
        row = {"rps": statistics.median(r[0] for r in runs), "ratio": ratio,
               "p50_ms": statistics.median(r[1] for r in runs),
               "p99_ms": statistics.median(r[2] for r in runs), "runs": runs}
        table[stack] = row
        print(f"| {stack} | {row['rps']:,.0f} | {ratio:.2f} | {row['p50_ms']:.3f} | "
              f"{row['p99_ms']:.3f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"duration_s": args.duration, "connections": args.connections,
                       "reps": args.reps, "stacks": table}, fh, indent=1)


if __name__ == "__main__":
    main()
