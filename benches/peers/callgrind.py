#!/usr/bin/env python3
"""Instructions per request for every stack, under callgrind (stable on a noisy machine).

For each stack, runs the request loop with N1 and N2 requests and reports
(total(N2) - total(N1)) / (N2 - N1) over all threads (the batch processor's export
thread included), and the ratio to the bare router from the same run.

    python3 benches/peers/callgrind.py [--n1 2000 --n2 6000] [--json out.json] [stack ...]

With --export, the export side instead (`src/bin/export_loop.rs`): for each of our
exporters, N requests through our layer (full tree, 4 spans a request) exported to a
loopback sink (run natively, in its own process), under callgrind with
--separate-threads=yes; reports the instructions of every thread but the main one
(the batch processor's export thread, and any thread the HTTP client starts) per
span, (export side(N2) - export side(N1)) / (4 (N2 - N1)), against issue 19's
target of 400:

    python3 benches/peers/callgrind.py --export [--n1 2048 --n2 6144] [exporter ...]
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build(name="request_loop"):
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "peers", "--bin", name],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", name)


def total(binary, stack, n):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        # --fair-sched: valgrind's default scheduler starves the batch processor's
        # thread, so spans pile up or are lost; --zero-before=main: start-up work
        # (e.g. a crate's calibration) is not counted.
        subprocess.run(["valgrind", "--tool=callgrind", "--fair-sched=yes",
                        "--zero-before=main", f"--callgrind-out-file={out}-%p",
                        binary, stack, str(n)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        instructions = 0
        for f in os.listdir(tmp):
            with open(os.path.join(tmp, f)) as fh:
                for line in fh:
                    m = re.match(r"^(?:summary|totals): (\d+)", line)
                    if m:
                        instructions = max(instructions, 0) + int(m.group(1))
                        break
        return instructions


def thread_totals(cmd):
    """Instructions per thread (valgrind's thread number: 1 is main) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--fair-sched=yes",
                        "--zero-before=main", "--separate-threads=yes",
                        f"--callgrind-out-file={out}-%p"] + cmd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        threads = {}
        for f in os.listdir(tmp):
            m = re.search(r"-(\d+)$", f[len("cg.out-"):])
            if not m:
                continue
            with open(os.path.join(tmp, f)) as fh:
                for line in fh:
                    t = re.match(r"^(?:summary|totals): (\d+)", line)
                    if t:
                        threads[int(m.group(1))] = int(t.group(1))
                        break
        return threads


SPANS_PER_REQUEST = 4  # export_loop's full tree: server, http receive, 2 http send
TARGET = 400  # issue 19: instructions per span, hand-off to bytes on the socket


def export_side(args):
    binary = args.binary or build("export_loop")
    exporters = args.stacks or subprocess.run([binary, "--list"], capture_output=True,
                                              text=True, check=True).stdout.split()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = subprocess.Popen([binary, "sink", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    sink.stdout.readline()  # "listening on ..."
    rows = {}
    try:
        for exporter in exporters:
            a = thread_totals([binary, exporter, str(args.n1), str(port)])
            b = thread_totals([binary, exporter, str(args.n2), str(port)])
            spans = SPANS_PER_REQUEST * (args.n2 - args.n1)
            export = (sum(v for t, v in b.items() if t != 1)
                      - sum(v for t, v in a.items() if t != 1)) / spans
            request = (b.get(1, 0) - a.get(1, 0)) / (args.n2 - args.n1)
            rows[exporter] = {"per_span": export, "request_thread_per_request": request,
                              "threads": len(b)}
            print(f"{exporter:20} {export:>10,.0f} per span (export side)  "
                  f"{request:>10,.0f} per request (request thread)", file=sys.stderr, flush=True)
    finally:
        sink.terminate()
        sink.wait()
    print("| exporter | instructions/span, export side | vs target (400) | "
          "request thread, instructions/request |")
    print("| --- | ---: | ---: | ---: |")
    for exporter, row in rows.items():
        v = row["per_span"]
        verdict = "met" if v <= TARGET else f"missed by {v - TARGET:,.0f} ({v / TARGET:.1f}x)"
        print(f"| {exporter} | {v:,.0f} | {verdict} | {row['request_thread_per_request']:,.0f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n1": args.n1, "n2": args.n2, "spans_per_request": SPANS_PER_REQUEST,
                       "exporters": rows}, fh, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n1", type=int)
    ap.add_argument("--n2", type=int)
    ap.add_argument("--json")
    ap.add_argument("--binary", help="an already built request_loop (or export_loop with "
                                     "--export; skips the build)")
    ap.add_argument("--export", action="store_true",
                    help="the export side per span (export_loop) instead of the stacks")
    ap.add_argument("stacks", nargs="*", help="stacks (or exporters with --export)")
    args = ap.parse_args()
    if args.export:
        # Multiples of 128 requests: whole 512-span batches.
        args.n1, args.n2 = args.n1 or 2048, args.n2 or 6144
        return export_side(args)
    args.n1, args.n2 = args.n1 or 2000, args.n2 or 6000
    binary = args.binary or build()
    stacks = args.stacks or subprocess.run([binary, "--list"], capture_output=True, text=True,
                                            check=True).stdout.split()
    if "bare" not in stacks:
        stacks.insert(0, "bare")
    rows = {}
    for stack in stacks:
        a = total(binary, stack, args.n1)
        b = total(binary, stack, args.n2)
        rows[stack] = (b - a) / (args.n2 - args.n1)
        print(f"{stack:40} {rows[stack]:>10,.0f}", file=sys.stderr, flush=True)
    bare = rows["bare"]
    print("| stack | instructions/request | vs bare |")
    print("| --- | ---: | ---: |")
    for stack, v in rows.items():
        print(f"| {stack} | {v:,.0f} | {v / bare:.2f}x |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n1": args.n1, "n2": args.n2, "instructions": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
