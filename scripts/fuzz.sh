#!/usr/bin/env bash
# Fuzzes the producer payload validation and the legacy preferences import parser with
# cargo-fuzz (libFuzzer), each for a bounded time: FUZZ_SECONDS per target (default 60).
# It runs on the stable toolchain with `--sanitizer none` (sanitizers need nightly, which this
# machine cannot fetch); panics and failed assertions are still found. A crash stops the
# script and leaves the input under fuzz/artifacts/TARGET/ for `cargo fuzz run TARGET FILE`.
source "$(dirname "$0")/lib.sh"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
CARGO_FUZZ_VERSION=0.13.2

if ! command -v cargo-fuzz >/dev/null || ! cargo-fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "building cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
fi

for target in item_payload preferences_import; do
    say "fuzzing $target for ${SECONDS_PER_TARGET}s"
    # A scratch copy of the committed seeds: libFuzzer adds what it finds to its corpus.
    corpus="$CARGO_TARGET_DIR/fuzz-corpus/$target"
    mkdir -p "$corpus"
    cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    cargo fuzz run --sanitizer none --target-dir "$CARGO_TARGET_DIR/fuzz" "$target" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -print_final_stats=1
done
