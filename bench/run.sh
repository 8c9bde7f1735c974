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
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT=3477
OUT="$ROOT/docs/benchmarks.md"

say "building the release server and the benchmark tool"
build_release
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
for backend in sqlite postgres; do
    if [ "$backend" = sqlite ]; then
        url="sqlite://$work/bench.db"
    else
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS ac_bench WITH (FORCE)" >/dev/null
        psql -q "$PG_ADMIN" -c "CREATE DATABASE ac_bench" >/dev/null
        url="${PG_ADMIN%/*}/ac_bench"
    fi
    say "$backend: seeding $ITEMS items, $USERS users in $ORGS organisations"
    "$BENCH" seed --database-url "$url" --items "$ITEMS" --users "$USERS" --orgs "$ORGS" \
        | sed "s/^{/{\"backend\":\"$backend\",/" >> "$results"
    say "$backend: read path, $CONCURRENCY clients for ${SECONDS_EACH}s"
    DATABASE_URL="$url" NO_EMAIL_WORKER=true RUST_LOG=warn LEPTOS_SITE_ROOT="$ROOT/target/site" \
        "$(SERVER_BIN)" serve --listen-addr "127.0.0.1:$PORT" > "$work/server-$backend.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
    "$BENCH" read --url "http://127.0.0.1:$PORT" --seconds "$SECONDS_EACH" --concurrency "$CONCURRENCY" \
        | sed "s/^{/{\"backend\":\"$backend\",/" >> "$results"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
    say "$backend: email, outbox drained to a loopback SMTP sink"
    "$BENCH" email --database-url "$url" --count 5000 | sed "s/^{/{\"backend\":\"$backend\",/" >> "$results"
done

wasm="$ROOT/target/site/pkg/action-center.wasm"
cores="$(nproc)"
memory="$(free -g | awk '/^Mem:/{print $2}') GiB"
python3 - "$results" "$OUT" "$cores" "$memory" "$(date -u +%Y-%m-%d)" "$(stat -c %s "$wasm")" "$(stat -c %s "$wasm.br")" \
    "$ITEMS" "$USERS" "$ORGS" "$SECONDS_EACH" "$CONCURRENCY" <<'PY'
import json, sys
results, out, cores, memory, day, raw, br, items, users, orgs, secs, conc = sys.argv[1:]
rows = [json.loads(l) for l in open(results) if l.strip()]
def get(backend, bench):
    return next((r for r in rows if r.get("backend") == backend and r.get("bench") == bench), {})
cmd = f"BENCH_ITEMS={items} BENCH_USERS={users} BENCH_ORGS={orgs} BENCH_SECONDS={secs} BENCH_CONCURRENCY={conc} ./bench/run.sh"
lines = [
    "# Benchmarks",
    "",
    f"Measured {day} on this project's CI machine kind: {cores} cores, {memory} memory, loopback only.",
    f"Command: `{cmd}` (it writes this file). Numbers, not targets: where a target is missed, it says so.",
    "",
    "## Read path: a user's list page (50 items) plus badge counts, over HTTP",
    "",
    f"{int(items):,} items, {int(users):,} users in {orgs} organisations (one or two target roles per item; users hold",
    f"one to three of the 7 roles, one admin with all roles per organisation). {conc} concurrent clients, each",
    f"repeating list + counts (sent together) for {secs} s as one user of the first organisation.",
    "",
    "| backend | seed time | pairs/s | p50 | p99 | target |",
    "|---|---|---|---|---|---|",
]
for b in ["sqlite", "postgres"]:
    s, r = get(b, "seed"), get(b, "read")
    lines.append(f"| {b} | {s.get('seconds', 0):.0f} s | {r.get('pairs_per_second', 0):,.0f} | {r.get('p50_ms', 0):.1f} ms | "
                 f"{r.get('p99_ms', 0):.1f} ms | p99 < 10 ms, > 5,000 req/s: "
                 f"{'met' if r.get('p99_ms', 1e9) < 10 and r.get('pairs_per_second', 0) * 2 > 5000 else 'missed'} |")
lines += [
    "",
    "## Email: the outbox drained over SMTP to a loopback sink",
    "",
    "5,000 rendered emails in the outbox, drained by one worker (the worker of one instance) with lettre's",
    "pooled SMTP connection to `smtp-sink`.",
    "",
    "| backend | emails/s | target |",
    "|---|---|---|",
]
for b in ["sqlite", "postgres"]:
    e = get(b, "email")
    lines.append(f"| {b} | {e.get('emails_per_second', 0):,.0f} | > 1,000/s: {'met' if e.get('emails_per_second', 0) > 1000 else 'missed'} |")
lines += [
    "",
    "## Client bundle",
    "",
    f"The release wasm bundle: {int(raw):,} bytes raw, {int(br):,} bytes brotli (target: under 150 KB brotli: "
    f"{'met' if int(br) < 150_000 else 'missed'}).",
    "",
    "## Not measured yet",
    "",
    "The publish path (items/s through the REST API, publish-to-delivery at 10,000 streams), idle SSE",
    "streams held and memory per stream, time to first paint and to hydration, and baselines",
    "(fan-out on read against one row per recipient) are not in this suite yet.",
    "",
]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
