#!/usr/bin/env bash
# Fuzzes context extraction, config parsing and (differentially, against
# independent readers) the OTLP, Zipkin and Jaeger encoders with cargo-fuzz.
#   scripts/fuzz.sh                 # 10 minutes per target
#   scripts/fuzz.sh 30              # 30 seconds per target (CI smoke)
# New interesting inputs go to fuzz/corpus/<target>/ (commit the useful ones);
# crashes go to fuzz/artifacts/<target>/.
# The machine has only the stable toolchain: no sanitizer (libFuzzer's coverage
# still applies), and RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in context_extraction config_parse encode_otlp encode_zipkin encode_jaeger; do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
