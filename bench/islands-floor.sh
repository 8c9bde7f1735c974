#!/usr/bin/env bash
# Builds bench/islands-floor three ways (a counter island; plus a badge island calling a server
# function; plus the badge following a live stream) as the release bundle is built (wasm-release
# profile, erased components, wasm-bindgen, wasm-opt -Os, brotli -q 11) and prints the sizes.
source "$(dirname "$0")/../scripts/lib.sh"
ensure_build_tools
ensure_apt brotli
export CARGO_TARGET_DIR="$HOME/.cache/action-center/islands-floor"
cd "$ROOT/bench/islands-floor"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for features in "" server-fn live; do
    RUSTFLAGS="--cfg erase_components" cargo build --quiet --locked --target wasm32-unknown-unknown \
        --profile wasm-release --features "$features"
    wasm-bindgen --target web --out-dir "$out" \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/islands_floor.wasm"
    wasm-opt -Os "$out/islands_floor_bg.wasm" -o "$out/opt.wasm"
    brotli -f -q 11 -o "$out/opt.wasm.br" "$out/opt.wasm"
    echo "{\"bench\": \"islands-floor\", \"features\": \"${features:-counter}\", \"raw\": $(stat -c %s "$out/opt.wasm"), \"brotli\": $(stat -c %s "$out/opt.wasm.br")}"
done
