#!/usr/bin/env bash
# Runs the benchmarks on this machine, loopback only and bounded in time, and writes
# docs/benchmarks.md. Scale and duration can be lowered for a quick look:
#   BENCH_ITEMS=1000000 BENCH_USERS=10000 BENCH_SECONDS=20 ./bench/run.sh
source "$(dirname "$0")/../scripts/lib.sh"

ITEMS="${BENCH_ITEMS:-1000000}"
USERS="${BENCH_USERS:-10000}"
ORGS="${BENCH_ORGS:-100}"
SECONDS_EACH="${BENCH_SECONDS:-20}"
CONCURRENCY="${BENCH_CONCURRENCY:-16}"
IDLE_STREAMS="${BENCH_IDLE_STREAMS:-50000}"
DELIVERY_STREAMS="${BENCH_DELIVERY_STREAMS:-10000}"
CLIENT_RUNS="${BENCH_CLIENT_RUNS:-10}"
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT=3477
OUT="$ROOT/docs/benchmarks.md"

ensure_apt chromium brotli postgresql-client
ensure_build_tools
say "building the release server and the benchmark tool"
build_release
# With the RUSTFLAGS and LEPTOS_* variables cargo-leptos gave the server build (from Cargo.toml's
# [[workspace.metadata.leptos]]), this build reuses most of its crates: 1 min 51 s after a test
# run (2026-12-01); without them it rebuilt the app and took about 10 min on an earlier machine.
RUSTFLAGS="--cfg erase_components" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
    LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false \
    cargo build --release -p bench
BENCH="$CARGO_TARGET_DIR/release/action-center-bench"

work="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS ac_bench WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

results="$work/results.jsonl"
record() { sed "s/^{/{\"backend\":\"$1\",/" >> "$results"; }
# Tens of thousands of streams need as many descriptors, in the server and in the client. A
# container may cap them (the hard limit); then fewer streams are held, and the report says so.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
open_files="$(ulimit -n)"
if [ "$open_files" != unlimited ] && [ "$IDLE_STREAMS" -gt $((open_files - 1000)) ]; then
    say "open files are capped at $open_files here: holding $((open_files - 1000)) idle streams instead of $IDLE_STREAMS"
    IDLE_STREAMS=$((open_files - 1000))
fi
echo "{\"bench\":\"limits\",\"open_files\":\"$open_files\",\"requested_idle_streams\":${BENCH_IDLE_STREAMS:-50000}}" | record all
# The same machine kind runs at different speeds on different days: a fixed single-core job,
# timed here, lets two reports be compared.
python3 -c 'import hashlib, json, time
block = b"x" * (64 << 20); start = time.time()
for _ in range(8): hashlib.sha256(block).digest()
print(json.dumps({"bench": "machine", "sha256_mib_per_s": 512 / (time.time() - start)}))' | record all
# A durable commit waits for the disk to sync the log: time that on the disk the databases use.
python3 -c 'import json, os, sys, time
path = os.path.join(sys.argv[1], "sync-probe"); fd = os.open(path, os.O_WRONLY | os.O_CREAT); took = []
for _ in range(200):
    os.write(fd, b"x" * 4096); start = time.perf_counter(); os.fdatasync(fd); took.append(time.perf_counter() - start)
os.close(fd); os.remove(path); took.sort()
print(json.dumps({"bench": "disk", "fdatasync_p50_ms": took[100] * 1e3, "fdatasync_p99_ms": took[197] * 1e3}))' "$work" | record all
start_server() {
    DATABASE_URL="$1" NO_EMAIL_WORKER=true RUST_LOG=warn LEPTOS_SITE_ROOT="$ROOT/target/site" \
        "$(SERVER_BIN)" serve --listen-addr "127.0.0.1:$PORT" > "$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

for backend in sqlite postgres; do
    if [ "$backend" = sqlite ]; then
        url="sqlite://$work/bench.db"
    else
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS ac_bench WITH (FORCE)" >/dev/null
        psql -q "$PG_ADMIN" -c "CREATE DATABASE ac_bench" >/dev/null
        url="${PG_ADMIN%/*}/ac_bench"
    fi
    say "$backend: seeding $ITEMS items, $USERS users in $ORGS organisations"
    "$BENCH" seed --database-url "$url" --items "$ITEMS" --users "$USERS" --orgs "$ORGS" | record "$backend"
    "$BENCH" explain --database-url "$url" | record "$backend"
    say "$backend: counts and list in-process, against one inbox row per recipient"
    "$BENCH" baseline --database-url "$url" | record "$backend"
    say "$backend: email, outbox drained to a loopback SMTP sink (before the publish benchmark adds unplanned items)"
    "$BENCH" email --database-url "$url" --count 5000 | record "$backend"
    say "$backend: read path, $CONCURRENCY clients for ${SECONDS_EACH}s"
    start_server "$url"
    "$BENCH" read --url "http://127.0.0.1:$PORT" --seconds "$SECONDS_EACH" --concurrency "$CONCURRENCY" | record "$backend"
    if [ "$backend" = sqlite ]; then
        for page in /action-center /action-center/actions; do
            say "$backend: first paint, hydration and code downloaded in Chromium ($page)"
            node "$ROOT/bench/client.mjs" "http://127.0.0.1:$PORT" user0@org0.bench bench-password "$CLIENT_RUNS" "$page" \
                | record "$backend"
        done
    fi
    for producers in "$CONCURRENCY" "$((CONCURRENCY * 4))" "$((CONCURRENCY * 16))"; do
        say "$backend: publish path, $producers producers for ${SECONDS_EACH}s"
        "$BENCH" publish --url "http://127.0.0.1:$PORT" --database-url "$url" --seconds "$SECONDS_EACH" \
            --concurrency "$producers" --orgs "$ORGS" | record "$backend"
    done
    stop_server
    say "$backend: $IDLE_STREAMS idle live streams"
    start_server "$url"
    "$BENCH" streams --url "http://127.0.0.1:$PORT" --database-url "$url" --server-pid "$server" \
        --streams "$IDLE_STREAMS" --publishes 0 | sed 's/"bench":"streams"/"bench":"idle"/' | record "$backend"
    stop_server
    say "$backend: publish to delivery at $DELIVERY_STREAMS streams (streams read in rounds)"
    start_server "$url"
    "$BENCH" streams --url "http://127.0.0.1:$PORT" --database-url "$url" --server-pid "$server" \
        --streams "$DELIVERY_STREAMS" --publishes 10 --reader rounds | record "$backend"
    stop_server
    say "$backend: publish to delivery at $DELIVERY_STREAMS streams (each event read at once)"
    start_server "$url"
    "$BENCH" streams --url "http://127.0.0.1:$PORT" --database-url "$url" --server-pid "$server" \
        --streams "$DELIVERY_STREAMS" --publishes 10 --reader at-once \
        | sed 's/"bench":"streams"/"bench":"streams_at_once"/' | record "$backend"
    stop_server
    if [ "$backend" = sqlite ]; then
        # What each event cost the server before the single-page app: every open page fetched
        # its HTML again. Two events, as each makes a page render per stream.
        say "$backend: $DELIVERY_STREAMS streams whose pages are fetched again on every event (the islands UI)"
        start_server "$url"
        "$BENCH" streams --url "http://127.0.0.1:$PORT" --database-url "$url" --server-pid "$server" \
            --streams "$DELIVERY_STREAMS" --publishes 2 --reader rounds --on-event refetch-page \
            | sed 's/"bench":"streams"/"bench":"streams_refetch"/' | record "$backend"
        stop_server
    fi
done

# The raw results beside the report, for anyone who wants other figures from the same run.
cp "$results" "$ROOT/docs/benchmarks.jsonl"
wasm="$ROOT/target/site/pkg/action-center.wasm"
python3 "$ROOT/bench/report.py" "$results" "$OUT" "$(nproc)" "$(free -g | awk '/^Mem:/{print $2}') GiB" \
    "$(date -u +%Y-%m-%d)" "$(stat -c %s "$wasm")" "$(stat -c %s "$wasm.br")" \
    "BENCH_ITEMS=$ITEMS BENCH_USERS=$USERS BENCH_ORGS=$ORGS BENCH_SECONDS=$SECONDS_EACH BENCH_CONCURRENCY=$CONCURRENCY BENCH_IDLE_STREAMS=${BENCH_IDLE_STREAMS:-50000} BENCH_DELIVERY_STREAMS=$DELIVERY_STREAMS ./bench/run.sh"
cat "$OUT"
