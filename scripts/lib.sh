#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh. Every step is idempotent: it checks
# first and installs only what is missing. Nothing is downloaded from outside the package
# registries (Debian, crates.io, npm): cargo-leptos is built with `no_downloads`, so it
# uses the wasm-bindgen, wasm-opt and tailwindcss found on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Build cache outside the clone, so a fresh clone (CI) reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/action-center/target}"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# cargo-leptos bakes these into the build; exporting them for plain cargo too keeps
# `cargo test` from rebuilding the Leptos crates with other values.
export LEPTOS_OUTPUT_NAME=action-center
# CI builds from a fresh clone each time: incremental state would only pile up in the cache.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

CARGO_LEPTOS_VERSION=0.3.11

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_updated=0
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ $apt_updated -eq 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_wasm_target() {
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
}

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
    local want
    want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)"
    if command -v wasm-bindgen >/dev/null && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$want" ]; then
        return 0
    fi
    say "building wasm-bindgen-cli $want from crates.io"
    # Newest compatible dependencies: the crate's own lock names a version the registry no longer serves.
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$want" --force
}

# cargo-leptos from crates.io, with `no_downloads`. Its published lock pins one crate that
# needs a newer rustc than 1.95, so that one is stepped back before building.
ensure_cargo_leptos() {
    if command -v cargo-leptos >/dev/null && cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
        return 0
    fi
    say "building cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads) from crates.io"
    cargo info "cargo-leptos@$CARGO_LEPTOS_VERSION" >/dev/null 2>&1 || true
    local src
    src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" 2>/dev/null | head -n1)"
    [ -n "$src" ] || { echo "cannot fetch the cargo-leptos $CARGO_LEPTOS_VERSION source from crates.io" >&2; exit 1; }
    local work
    work="$(mktemp -d)"
    cp -r "$src"/. "$work"
    (cd "$work" && cargo update -p cargo-util-schemas --precise 0.14.1 >/dev/null 2>&1 \
        && cargo install --path . --features no_downloads --locked --force)
    rm -rf "$work"
}

ensure_npm_packages() {
    if [ -d node_modules/@tailwindcss/cli ] && [ -d node_modules/@playwright/test ] && [ -d node_modules/binaryen ] \
        && [ node_modules/.package-lock.json -nt package-lock.json ]; then
        return 0
    fi
    say "installing npm packages (Tailwind CSS, Playwright; no browser download)"
    npm ci --no-audit --no-fund
}

# wasm-opt comes from the npm package `binaryen` (a current release; Debian's binaryen 108 is
# too old for today's wasm and produces a bundle that fails to start). Without it the release
# bundle cannot be optimised, and the build stops saying so.
ensure_build_tools() {
    prune_build_cache
    ensure_apt brotli
    ensure_wasm_target
    ensure_wasm_bindgen
    ensure_cargo_leptos
    ensure_npm_packages
    ensure_rust_src
    [ -x node_modules/.bin/wasm-opt ] || { echo "wasm-opt (npm package binaryen) is missing: the release build needs it" >&2; exit 1; }
}

# The standard library's source, from the same rustup channel as the wasm target, so that the
# wasm bundle can be built with its own small std (`build_frontend`). Without it the build
# goes on with the prebuilt std and says so.
has_rust_src() {
    rustup component list --installed 2>/dev/null | grep -q '^rust-src'
}

ensure_rust_src() {
    has_rust_src && return 0
    say "adding the rust-src component (the wasm bundle's std is built from it)"
    rustup component add rust-src || say "rust-src could not be added: the wasm bundle will use the prebuilt std (about 27 KB more brotli)"
}

# The wasm bundle, built with a std of its own where the std's source is there: panics abort
# at once (no panic messages, locations or formatting for them), derived `Debug` prints only
# names, and std picks its smaller code paths. That took 27 KB of brotli off the main file
# (316,800 to 289,517 bytes, docs/benchmarks.md). These are unstable options of Rust 1.95,
# turned on for this one build by RUSTC_BOOTSTRAP, as the Linux kernel and Firefox build on
# stable Rust; the server and the tests are built without them.
build_frontend() {
    local own_std=()
    if has_rust_src; then
        own_std=(
            RUSTC_BOOTSTRAP=1
            CARGO_UNSTABLE_BUILD_STD=std,panic_abort
            CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
            CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=shallow"
        )
    else
        say "no rust-src: building the wasm bundle with the prebuilt std (larger; see ensure_rust_src)"
    fi
    env "${own_std[@]}" cargo leptos build --release --split --frontend-only
}

# Release build of the server and the wasm bundle, then precompressed copies of the bundle
# (served as-is by the server's /pkg route when the browser accepts br or gzip). `--split` puts
# each lazy page's code in a wasm file of its own; the app's wasm does not link without it.
build_release() {
    say "building the release (optimised wasm bundle, then the server)"
    build_frontend
    cargo leptos build --release --split --server-only
    local pkg="$ROOT/target/site/pkg"
    for f in "$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css; do
        [ -f "$f" ] || continue
        brotli -f -q 11 -o "$f.br" "$f"
        gzip -f -k -9 "$f"
    done
    local wasm="$pkg/action-center.wasm"
    if [ -f "$wasm" ]; then
        say "wasm bundle: $(stat -c %s "$wasm") bytes raw, $(stat -c %s "$wasm.br") bytes brotli (the main file; $(ls "$pkg"/*.wasm | wc -l) files in all)"
    fi
}

# The build cache outlives clones, and cargo names the workspace's own artefacts after the
# clone's path, so every fresh clone (CI) adds a full set of them and the cache grows without end.
# Over CACHE_LIMIT_GB (default 60), or with under 20 GB left on its disk, files nothing read for
# two days and the incremental state go; cargo rebuilds whatever it then misses. (Linking and
# running read a file, which refreshes its access time once a day under relatime.)
prune_build_cache() {
    [ -d "$CARGO_TARGET_DIR" ] || return 0
    local limit="${CACHE_LIMIT_GB:-60}" used free
    used="$(du -s --block-size=1G "$CARGO_TARGET_DIR" | cut -f1)"
    free="$(df --output=avail --block-size=1G "$CARGO_TARGET_DIR" | tail -n1 | tr -d ' ')"
    [ "$used" -gt "$limit" ] || [ "$free" -lt 20 ] || return 0
    say "build cache at $used GB with $free GB free: removing what nothing used for two days"
    find "$CARGO_TARGET_DIR" -type d -name incremental -prune -exec rm -rf {} +
    find "$CARGO_TARGET_DIR" -type f -atime +1 -delete
    find "$CARGO_TARGET_DIR" -mindepth 1 -type d -empty -delete
    say "build cache now at $(du -s --block-size=1G "$CARGO_TARGET_DIR" | cut -f1) GB"
}

SERVER_BIN() { echo "$CARGO_TARGET_DIR/release/action-center"; }
