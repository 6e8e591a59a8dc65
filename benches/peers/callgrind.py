#!/usr/bin/env python3
"""Instructions per request for every stack, under callgrind (stable on a noisy machine).

For each stack, runs the request loop with N1 and N2 requests and reports
(total(N2) - total(N1)) / (N2 - N1) over all threads (the batch processor's export
thread included), and the ratio to the bare router from the same run.

    python3 benches/peers/callgrind.py [--n1 2000 --n2 6000] [--json out.json] [stack ...]
"""
import argparse, json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "peers", "--bin", "request_loop"],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "request_loop")


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n1", type=int, default=2000)
    ap.add_argument("--n2", type=int, default=6000)
    ap.add_argument("--json")
    ap.add_argument("--binary", help="an already built request_loop (skips the build)")
    ap.add_argument("stacks", nargs="*")
    args = ap.parse_args()
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
