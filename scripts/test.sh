#!/usr/bin/env bash
# Installs what the tests need and runs every test: formatting and lints, unit tests, the
# storage, items and email contract tests, the HTTP tests and the authorization matrix on
# SQLite and PostgreSQL, then Playwright end-to-end tests in Debian's headless Chromium
# against the release build, a bounded fuzzing run and the schemathesis API check.
source "$(dirname "$0")/lib.sh"

ensure_build_tools
ensure_apt chromium postgresql

# PostgreSQL for the contract tests: TEST_POSTGRES_URL, or the local server (started if stopped).
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if [[ "$TEST_POSTGRES_URL" == *"@127.0.0.1:5432/"* ]] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting the local PostgreSQL"
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || [[ "$TEST_POSTGRES_URL" != *"@127.0.0.1:5432/"* ]] \
    || { echo "PostgreSQL is not reachable at $TEST_POSTGRES_URL" >&2; exit 1; }

say "formatting and lints"
cargo fmt --all -- --check
cargo clippy -p app -p server -p smtp-sink -p bench --all-targets --features app/ssr,app/test-util -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
# The fuzz targets build only under cargo-fuzz, late in the run; a type they use changing
# should fail here, at once.
cargo check -p action-center-fuzz --bins

say "unit, storage contract and HTTP tests (SQLite and PostgreSQL)"
cargo test -p app -p server -p smtp-sink --features app/ssr,app/test-util

build_release
say "building the loopback SMTP sink for the end-to-end tests"
cargo build --release -p smtp-sink

say "end-to-end tests (Playwright, headless Chromium)"
export ACTION_CENTER_BIN="$(SERVER_BIN)"
export SMTP_SINK_BIN="$CARGO_TARGET_DIR/release/smtp-sink"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
npx playwright test -c end2end/playwright.config.ts

say "fuzzing, bounded (scripts/fuzz.sh; FUZZ_SECONDS per target)"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "$ROOT/scripts/fuzz.sh"

say "the producer API against its OpenAPI document (scripts/api-check.sh)"
"$ROOT/scripts/api-check.sh"
