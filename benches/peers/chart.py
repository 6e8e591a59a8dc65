#!/usr/bin/env python3
"""Draws the per-request overhead of each stack relative to the bare router as an SVG
bar chart: instructions (callgrind) and, when criterion results exist, nanoseconds.

    python3 benches/peers/chart.py --callgrind cg.json [--criterion target/criterion/request] \
        --out benches/peers/overhead.svg
"""
import argparse, json, os, sys
from html import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LABELS = {
    "noop_layer": "pass-through Router::layer (floor of any layer)",
    "ours_rate0": "tower-otel-tracing, sample_rate 0",
    "around_ours_rate0": "tower-otel-tracing around the router, rate 0",
    "ours_rate1_server_only": "tower-otel-tracing, 1.0, server span only",
    "ours_rate1": "tower-otel-tracing, 1.0, full tree (4 spans)",
    "around_ours_rate1": "tower-otel-tracing around the router, 1.0, full tree",
    "tower_http_unsampled": "tower-http TraceLayer + tracing-otel, unsampled",
    "tower_http_sampled": "tower-http TraceLayer + tracing-otel, sampled",
    "axum_tracing_otel_unsampled": "axum-tracing-opentelemetry, unsampled",
    "axum_tracing_otel_sampled": "axum-tracing-opentelemetry, sampled",
    "tower_otel_unsampled": "tower-otel, unsampled",
    "tower_otel_sampled": "tower-otel, sampled",
    "otel_instrumentation_tower_unsampled": "opentelemetry-instrumentation-tower, unsampled",
    "otel_instrumentation_tower_sampled": "opentelemetry-instrumentation-tower, sampled",
    "fastrace_unsampled": "fastrace-axum, unsampled",
    "fastrace_sampled": "fastrace-axum, sampled",
    "fastrace_tree_sampled": "fastrace-axum, server span + 3 children",
}


def criterion_medians(path):
    out = {}
    if not path or not os.path.isdir(path):
        return out
    for name in os.listdir(path):
        est = os.path.join(path, name, "new", "estimates.json")
        if os.path.exists(est):
            with open(est) as fh:
                out[name] = json.load(fh)["median"]["point_estimate"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--callgrind", required=True)
    ap.add_argument("--criterion")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.callgrind) as fh:
        instr = json.load(fh)["instructions"]
    ns = criterion_medians(args.criterion)
    bare_i = instr["bare"]
    bare_ns = ns.get("bare")
    rows = [s for s in LABELS if s in instr]
    ours = lambda s: "ours" in s
    label_w, bar_w, row_h, top = 390, 470, 34, 70
    width = label_w + bar_w + 250
    height = top + row_h * len(rows) + 50
    scale = bar_w / max(instr[s] - bare_i for s in rows)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="13">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="12" y="24" font-size="16" font-weight="bold">Per-request overhead over the '
           f'bare axum router (POST /summarize, 53-byte JSON body)</text>',
           f'<text x="12" y="46" fill="#444">bar: extra instructions per request (callgrind, all '
           f'threads; bare = {bare_i:,.0f}); label: ratio to bare'
           + (f', and extra ns in-process (criterion median; bare = {bare_ns:,.0f} ns)'
              if bare_ns else "") + '</text>']
    for i, s in enumerate(rows):
        y = top + i * row_h
        extra = instr[s] - bare_i
        w = max(1.0, extra * scale)
        color = "#1f77b4" if ours(s) else ("#9e9e9e" if s == "noop_layer" else "#ff7f0e")
        svg.append(f'<text x="{label_w - 8}" y="{y + 21}" text-anchor="end">'
                   f'{escape(LABELS[s])}</text>')
        svg.append(f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" '
                   f'fill="{color}"/>')
        note = f'+{extra:,.0f} ({instr[s] / bare_i:.2f}x)'
        if bare_ns and s in ns:
            note += f', +{ns[s] - bare_ns:,.0f} ns'
        svg.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 21}">{note}</text>')
    y = top + row_h * len(rows) + 24
    svg.append(f'<rect x="{label_w}" y="{y - 11}" width="12" height="12" fill="#1f77b4"/>'
               f'<text x="{label_w + 18}" y="{y}">tower-otel-tracing</text>'
               f'<rect x="{label_w + 170}" y="{y - 11}" width="12" height="12" fill="#ff7f0e"/>'
               f'<text x="{label_w + 188}" y="{y}">peers</text>'
               f'<rect x="{label_w + 250}" y="{y - 11}" width="12" height="12" fill="#9e9e9e"/>'
               f'<text x="{label_w + 268}" y="{y}">no tracing</text>')
    svg.append("</svg>")
    with open(args.out, "w") as fh:
        fh.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
