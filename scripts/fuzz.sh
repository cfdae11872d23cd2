#!/usr/bin/env bash
# Fuzzes one input path of the node with libFuzzer and AddressSanitizer.
#   scripts/fuzz.sh <json|protobuf|relay|frames|http|token|all> [seconds per target, default 600]
# Builds switchboard-fuzz instrumented (-sanitize=fuzzer,address) in .build-fuzz, starts
# from the seed corpus in Fuzz/corpus/<target> (new inputs go to a scratch copy), and
# writes any crashing input to Fuzz/crashes/. A crash becomes a regression test by moving
# its input to Fuzz/regressions/<target>/ (FuzzRegressionTests replays those on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh <json|protobuf|relay|frames|http|token|all> [seconds]}
seconds=${2:-600}
targets=$target
[ "$target" = all ] && targets="json protobuf relay frames http token"

swift build --product switchboard-fuzz --build-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >&2
bin=$(swift build --product switchboard-fuzz --build-path .build-fuzz --show-bin-path -Xswiftc -DFUZZING)/switchboard-fuzz
mkdir -p Fuzz/crashes

for name in $targets; do
    scratch=$(mktemp -d "/tmp/switchboard-fuzz-$name.XXXXXX")
    cp Fuzz/corpus/"$name"/* "$scratch"/
    echo "== fuzzing $name for $seconds s (corpus in $scratch)" >&2
    # The backtracer would spend 30 s on each crash; ASan reports it instead. Leak checks
    # are off: the node keeps its tasks and connections across inputs.
    ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no FUZZ_TARGET=$name "$bin" "$scratch" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="Fuzz/crashes/$name-" 2>&1 | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^Done|stat::|ERROR|SUMMARY|Test unit written|==[0-9]+==" || true
done
