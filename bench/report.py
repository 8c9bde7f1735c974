"""Writes docs/benchmarks.md from the JSON lines bench/run.sh collected."""
import json
import sys

results, out, cores, memory, day, raw, br, command = sys.argv[1:]
rows = [json.loads(l) for l in open(results) if l.strip()]
BACKENDS = ["sqlite", "postgres"]


def get(backend, bench):
    return next((r for r in rows if r.get("backend") == backend and r.get("bench") == bench), {})


def verdict(ok):
    return "met" if ok else "missed"


seed = get("sqlite", "seed")
lines = [
    "# Benchmarks",
    "",
    f"Measured {day} on this project's CI machine kind: {cores} cores, {memory} memory, loopback only;",
    "the load generators run on the same 2 cores as the server.",
    f"Command: `{command}` (it writes this file).",
    "Numbers, not targets: where a target is missed, it says so.",
]
machine = get("all", "machine")
if machine:
    lines += [
        f"Machine speed in this run: SHA-256 on one core at {machine['sha256_mib_per_s']:,.0f} MiB/s (Python's",
        "hashlib). Machines of this kind differ from day to day; compare this before comparing runs.",
    ]
disk = get("all", "disk")
if disk:
    lines += [
        f"Disk in this run: `fdatasync` after a 4 KiB append took {disk['fdatasync_p50_ms']:.2f} ms (p50),",
        f"{disk['fdatasync_p99_ms']:.2f} ms (p99), on the file system the databases use.",
    ]
lines += [
    "SHA-256 understates how much the machines differ in database work. On 2026-12-01 the benchmarks",
    "ran on three machines of this kind. On the first (SHA-256 1,698 MiB/s) the read path made 9,696",
    "req/s on SQLite and 6,091 on PostgreSQL, publishing 2,275-5,154 items/s on SQLite and",
    "3,389-6,170 on PostgreSQL. On the second (1,345 MiB/s, in the afternoon), with the same code, the",
    "in-process queries of the baseline took 1.7 to 2.3 times as long and the HTTP figures fell with",
    "them: read 4,115 and 3,598 req/s, publish 1,025-1,970 and 1,647-3,074 items/s. There the read path",
    "of the commit measured on the first (27adf1e) and of 9a7d5a3 (after two clean-ups) were run side",
    "by side on a 100,000-item SQLite file (10 s each, alternated): 2,290 and 2,773 list+counts pairs/s",
    "against 2,932 and 3,039, so that difference was the machine's, not the code's. On the third",
    "(1,979 MiB/s, in the evening), with the read path's three changes described below (ac9ec46):",
    "read 19,601 and 11,211 req/s, publish 3,241-6,084 and 4,522-8,307 items/s.",
]
lines += [
    "",
    f"Data: {seed.get('items', 0):,} items and {seed.get('users', 0):,} users in {seed.get('orgs', 0)} organisations",
    "(one or two of the 7 roles targeted per item; users hold one to three roles, one admin per",
    "organisation holds all seven). The first organisation's users have read a third of their",
    "notifications and archived one in fifty of their archivable items. Reads are as that admin,",
    f"whom all {seed.get('items', 0) // max(seed.get('orgs', 1), 1):,} items of the organisation reach.",
    "",
    "## Read path: a user's list page (50 items) plus badge counts, over HTTP",
    "",
    "Each client signs in, then repeats list + counts (two server-function requests sent together).",
    "Every request resolves its session, user, roles and the organisation's newest event-log id in",
    "one query that returns one row. Nothing is written during the run, so after the first request",
    "the counts and the page come from the server's `ReadCache` without another query; the",
    "in-process baseline below times counts and list without it. The server runs with its default",
    "pool: on PostgreSQL two connections per core (4 here). In a same-day A/B on 2026-11-30",
    "(1,000,000 items, `DATABASE_POOL_SIZE=N action-center serve`, then",
    "`action-center-bench read --seconds 20 --concurrency 16`, two runs each) the pair p99 on",
    "PostgreSQL was 12.9-13.6 ms with 16 connections, 11.2-12.1 ms with 8 and 9.1-9.9 ms with 4:",
    "more server processes than cores only took turns.",
    "",
    "What a request cost beyond that (2026-12-01, `perf` on the server under `action-center-bench read`,",
    "100,000-item databases; then A/B of release builds alternated, 8-10 s per run, pairs/s). Three",
    "changes came of it. The state the handlers share (`AppState`) was a struct of pools, queues and",
    "strings that axum and Leptos clone several times per request: 9% of the server's samples; it is",
    "one `Arc` now (SQLite: 7,331-7,646 against 6,277-6,583). sqlx pinged every pooled connection",
    "before handing it out, a round trip per query to SQLite's worker thread or to PostgreSQL; now",
    "only a connection idle for a second is checked, and a test ends the pool's PostgreSQL",
    "connections to show the next query still gets a live one (SQLite 8,318-8,751 against",
    "7,599-8,130; PostgreSQL 5,338-5,738 against 4,987-5,082). The session query returned a row per",
    "role of the user (the benchmark user has all seven), and the driver copies every column of",
    "every row; the roles now come in one column (`string_agg`) (SQLite 10,136 and 10,483 against",
    "8,469-8,664, one run at 7,656; PostgreSQL 5,445, 5,669 and 4,276 against 3,881, 4,369 and",
    "3,236 in the same rounds). Most of what is left is the kernel: context switches between tokio's",
    "workers and the database's worker threads, and loopback TCP, shared with the load generator on",
    "the same cores (about half of the server's samples).",
    "",
    "Later that night the `ReadCache` (and the API's key cache) moved from a `HashMap` behind one",
    "mutex, emptied whenever it filled, to `quick_cache` (sharded, evicts the least used). On the",
    "1,000,000-item SQLite file, release builds alternated in 15 s runs (`action-center-bench read",
    "--seconds 15 --concurrency 16`), a slower machine than the run below: 5,822, 6,133, 4,476,",
    "5,310, 4,850 and 4,111 pairs/s with it against 4,571, 4,648, 4,206, 4,055, 4,256 and 3,975",
    "without: no slower, likely faster, on a machine whose speed drifted during the runs.",
    "",
    "| backend | seed time | clients | pairs/s | requests/s | p50 (pair) | p99 (pair) | target: p99 < 10 ms, > 5,000 req/s |",
    "|---|---|---|---|---|---|---|---|",
]
for b in BACKENDS:
    s, r = get(b, "seed"), get(b, "read")
    pairs = r.get("pairs_per_second", 0)
    lines.append(
        f"| {b} | {s.get('seconds', 0):.0f} s | {r.get('concurrency', 0)} | {pairs:,.0f} | {2 * pairs:,.0f} | "
        f"{r.get('p50_ms', 0):.1f} ms | {r.get('p99_ms', 0):.1f} ms | "
        f"{verdict(r.get('p99_ms', 1e9) < 10 and 2 * pairs > 5000)} |"
    )
lines += [
    "",
    "### Against a baseline: one inbox row per recipient",
    "",
    "In-process (no HTTP), the same user, averaged over the runs. The baseline stores one row per",
    "(item, recipient) with the read state in it, which is what publishing would have to write.",
    "",
    "The ratios are the inbox's time over fan-out on read: above 1, fan-out on read is faster.",
    "",
    "| backend | counts (fan-out on read) | counts (inbox) | ratio | list (fan-out on read) | list (inbox) | ratio | inbox rows per item | inbox rows for one org |",
    "|---|---|---|---|---|---|---|---|---|",
]


def ratio(inbox, on_read):
    return f"{inbox / on_read:.2g}" if on_read else "-"


for b in BACKENDS:
    x = get(b, "baseline")
    lines.append(
        f"| {b} | {x.get('counts_on_read_us', 0):,.0f} µs | {x.get('counts_inbox_us', 0):,.0f} µs | "
        f"{ratio(x.get('counts_inbox_us', 0), x.get('counts_on_read_us', 0))} | "
        f"{x.get('list_on_read_us', 0):,.0f} µs | {x.get('list_inbox_us', 0):,.0f} µs | "
        f"{ratio(x.get('list_inbox_us', 0), x.get('list_on_read_us', 0))} | "
        f"{x.get('inbox_rows_per_item', 0):.1f} | {x.get('inbox_rows', 0):,} ({x.get('fan_out_seconds', 0):.1f} s to write) |"
    )
lines += [
    "",
    "Publishing here writes no per-recipient rows: one item row, its audience roles, one",
    "`audience_counts` upsert, the audit entry and one live-log entry, whatever the audience size.",
    "",
    "## Publish path",
    "",
    "Producers publish through `POST /api/v1/items` (8 API keys; the rate limit is per key). The server",
    "runs without its email worker here; the email drain is measured on its own below. Requests go",
    "through the group commit (`items::Publisher`): those that arrive while a batch is being written",
    "are written together, up to 256 per transaction. Each backend is measured with as many",
    "producers as the read path has clients, then with four and sixteen times as many. A batch holds",
    "the requests that arrived while the one before it was written, so more producers make bigger",
    "batches, and a bigger batch costs less per item (below); with few producers the writer waits on",
    "round trips and the commit (throughput of closed-loop producers is producers over latency).",
    "An instance trusts an API key it found for 10 s and reads the role and workspace catalogs",
    "once a minute, so a publish makes no query outside its batch. Item ids are time-ordered",
    "(UUIDv7): a batch appends to the id indexes rather than writing into random pages of them.",
    "",
    "A `201` promises the item is stored: both backends sync their log to the disk at each commit",
    "(SQLite `synchronous = FULL`, its default; PostgreSQL `synchronous_commit = on`). A batch commits",
    "once, and a closed-loop producer waits for its `201` before it sends again, so n producers put",
    "at most n items in a commit. The last column is that simple baseline: n items per `fdatasync`",
    "of this run's disk (above), the most any writer could accept here with nothing but the sync to do.",
    "",
    "| backend | producers | items/s | p50 | p99 | target: > 5,000 items/s | ceiling: producers per disk sync |",
    "|---|---|---|---|---|---|---|",
]
sync_ms = disk.get("fdatasync_p50_ms", 0) if disk else 0
for b in BACKENDS:
    for p in [r for r in rows if r.get("backend") == b and r.get("bench") == "publish"]:
        n = p.get("concurrency", 0)
        ceiling = f"{n * 1000 / sync_ms:,.0f} items/s" if sync_ms else "not measured"
        lines.append(
            f"| {b} | {n} | {p.get('items_per_second', 0):,.0f} | {p.get('p50_ms', 0):.1f} ms | "
            f"{p.get('p99_ms', 0):.1f} ms | {verdict(p.get('items_per_second', 0) > 5000)} | {ceiling} |"
        )
lines += [
    "",
    "What bounds SQLite here (measured 2026-11-30 on the 1,000,000-item file, 64 producers): its one",
    "writer. Each published item dirties about 9.6 pages (39 KB of write-ahead log per item, from a",
    "20 s run with checkpoints turned off, before the unused index below was dropped): the item row and its id, but mostly index entries at",
    "scattered pages, one per organisation in the batch for the org-keyed indexes and one per item",
    "for those ordered by due date or idempotency key. Every page is written to the log, then read",
    "back and written to the file by the checkpoint. Sampled, the writer thread was running two",
    "thirds of the time and waiting on the disk a fifth (ext4 writeback throttling). Three changes",
    "came from this: the statement journal of a batch's multi-row INSERTs stays in memory",
    "(`temp_store = MEMORY`; it had spilled to temporary files that took 41% of the write calls);",
    "an index nothing read any more (`items_open_actions_by_due`) is gone; and the checkpoint runs",
    "in a background task every 20 ms instead of in the writer after its commits. Same-day A/B of",
    "the last one: 1,885-2,462 items/s before, 2,484-2,648 after; with no checkpoint at all the",
    "writer reached 3,205-3,491, the ceiling of that approach. Past it, the way further is fewer",
    "pages per item. The three partial indexes of the reminder stages became one on a",
    "`next_reminder_at` column (migration 0007: a published action writes one reminder index entry",
    "instead of three). Same-day A/B of that change (2026-11-30, not by this script; 64 producers,",
    "15 s runs, alternated): on a 1,000,000-item SQLite file 5,658 and 5,173 items/s with it against",
    "5,708, 5,178 and 5,143 without; on a 100,000-item PostgreSQL database 5,255 and 6,695 against",
    "6,158 and 6,296. No difference beyond this machine's noise on a day it ran fast. Nor did a",
    "64 MiB page cache for the SQLite writer (its default is 2 MiB), tried right after on the same",
    "file: 4,919, 5,919 and 6,776 items/s with it against 5,769, 6,102 and 6,866 without; not kept.",
    "",
    "PostgreSQL is not bound by a single writer in the same way. Tried 2026-11-30 (not by this script;",
    "a 100,000-item database, 64 producers, 15 s per run, one instance): two or four batch writers",
    "per instance instead of one gave 2,254 and 2,189 items/s with two writers, 2,118 with four,",
    "against 2,128 and 2,236 with one, within this machine's noise. PostgreSQL's processes, the",
    "server and the load generator already keep both cores busy, so overlapping one batch's inserts",
    "with another's commit gains nothing here; the instance keeps one writer.",
    "",
    "What did cost PostgreSQL: the event log's ordering lock and the notification to other instances",
    "were one statement per organisation of a batch, and the benchmark's producers publish to random",
    "organisations of 100, so a batch of 64 items spanned ~47 of them and made ~94 round trips",
    "beside its ten or so other statements. Both are now one statement per batch (`live::append_all`).",
    "Same-day A/B (2026-12-01, not by this script; a 100,000-item database with 100 organisations,",
    "64 producers, 15 s per run, alternated): 2,407 and 2,873 items/s before, 3,605 and 3,532 after.",
    "",
    "Where a batch's time goes on PostgreSQL (2026-12-01, the same 100,000-item database, 64",
    "producers, every statement logged with `log_min_duration_statement = 0` for one 15 s run):",
    "922 batches of 33 items on average, one every 16.3 ms, of which PostgreSQL spent about 8.5 ms",
    "executing statements: the items INSERT 3.3 ms, the audience roles 1.2 ms, COMMIT 1.0 ms, the",
    "counts upsert 0.7 ms, the audit and event-log INSERTs 0.9 ms together, binding and parsing",
    "about 1 ms (so sqlx's statement cache is not what costs). The rest is the eleven round trips",
    "of one writer; in a run of the same kind the machine was 36% idle (/proc/stat). A foreign key",
    "is checked per inserted row by locking",
    "the referenced row, and every item referenced the same few rows (its organisation, one of the",
    "seven workspaces, its API key, and a role per audience role): migration 0008 drops those keys",
    "on PostgreSQL (nothing in the application deletes those rows; a publish checks the",
    "organisation in its transaction and the rest against the catalogs; the cascading keys stay).",
    "Same-day A/B (alternated, as above): 2,371 and 2,325 items/s before, 2,587 and 2,407 after;",
    "with every foreign key of those tables dropped (tried by hand, not kept) 2,572 and 2,516.",
    "The machine ran slower than at the A/B above, where the same build as 'before' here gave",
    "3,605 and 3,532 items/s; hence the lower figures of both.",
    "",
    "Then the round trips (2026-12-01): a batch now makes five on PostgreSQL. BEGIN; one lookup of",
    "its organisations, the users it names and its idempotency keys (`UNION ALL`); one statement that",
    "writes the items, their audience roles and users, the count upsert and the audit entries as",
    "data-modifying `WITH` parts (`db::insert::insert_all`); one that takes the log's locks, appends",
    "the entries and notifies other instances (`live::append_all`); COMMIT. SQLite keeps one",
    "statement per table (it has no data-modifying `WITH`, and its statements are calls inside the",
    "process). Statements stay under the engines' limits on bound values (a batch naming 16,000 users",
    "is split, not refused). Same-day A/B (not by this script; the 100,000-item PostgreSQL database,",
    "15 s runs, alternated): 16 producers 2,945 and 2,589 items/s before, 3,326 and 2,775 after;",
    "64 producers 4,432 and 4,713 before, 4,982 and 4,542 after; 256 producers 5,433 before, 6,729",
    "after. Two batch writers per instance, tried again on top of it, still gained nothing beyond the",
    "noise (16 producers: 2,900 and 3,378 items/s against 3,114 and 3,782 with one; 64 producers:",
    "4,937 and 4,377 against 4,209 and 4,610); the instance keeps one writer.",
    "",
    "Last, the batch size (2026-12-01, not by this script; 20 s runs on a copy of the 1,000,000-item",
    "SQLite file, 15 s on the 100,000-item PostgreSQL database, alternated): up to 256 items per",
    "transaction instead of 64. A batch of 64 over 100 organisations touched ~47 leaf pages of each",
    "per-organisation index, one of 256 ~92, so half as many pages per item. SQLite, 256 producers:",
    "4,250 and 3,914 items/s at 64, 4,617 and 5,144 at 256; 64 producers (whose batches never",
    "reach 64): 4,406 and 3,909 against 4,289 and 3,839, the same. PostgreSQL, 256 producers:",
    "5,711 and 6,052 at 64, 6,006 and 6,156 at 256. Kept at 256.",
    "",
    "### Publish to delivery",
    "",
    "Streams are opened as the first organisation's users (several streams per user, like open tabs);",
    "then 10 items reaching everyone are published one at a time, and each arrival is timed from the",
    "moment the publisher read its `201`. Each instance reads a published item once and serializes",
    "it once per email language; each stream adds it to its own counts and sends the shared JSON",
    "with them. The load generator holds all 10,000 sockets on the same 2 cores, so its work is in",
    "these times too.",
    "",
    "Since 2026-12-04 a delivery is timed by the kernel: every stream socket has `SO_TIMESTAMPNS`,",
    "and the time is the stamp of the segment that carried the event to it (\"arrived\"); the",
    "time the load generator read it is shown beside it (\"read\"). And the load generator reads",
    "its streams in two ways, each measured: one thread looks at every socket once a millisecond",
    "(\"in 1 ms rounds\", the judged row), or a task per stream reads each event as soon as the",
    "kernel wakes it (\"at once\", the way of the earlier reports). On loopback each of the",
    "server's 10,000 writes would otherwise also wake a load generator thread sleeping in",
    "`epoll_wait`, and that wake-up runs on the server's core, inside its `writev`; a browser on",
    "another machine costs the server no such thing. The receiving socket's side of the TCP path",
    "(on loopback also run inside the server's `writev`) stays in both. Measured first on a",
    "100,000-item SQLite file (10,000 streams, 10 publishes, alternated): p99 125 and 110 ms in",
    "rounds against 137 and 148 ms at once; arrived and read were 1 to 4 ms apart either way, so",
    "the gain is the server's, not the ruler's. `perf` over the publishes: in rounds the load",
    "generator took 14% of the busy CPU (26% at once), and during each fan-out both cores were",
    "100% busy for the 110 to 130 ms it lasted, so the fan-out is bound by CPU, not by waiting.",
    "Of the server's part, about 60% was the kernel (the loopback TCP path of both ends and the",
    "ACKs) and 40% user space, spread over hyper's dispatcher, axum's SSE body, the request tracing",
    "layer's body, tokio's broadcast and scheduler, and malloc, none above 3% of it. Not kept: a",
    "stream path without a boxed future or a regrown JSON buffer for a publication (p99 104, 128",
    "and 119 ms against 109, 126 and 111 ms without it, alternated: within the noise).",
    "",
    "Where the time goes (perf, all CPUs, SQLite, 2026-11-30): a delivery costs the server about",
    "35-40 µs of CPU and the load generator about 12 µs, so 10,000 deliveries take about 0.45 CPU",
    "seconds, a little over 200 ms on 2 cores; the p99 follows that. About 37% of the server's part",
    "is the kernel's TCP write of the event (`writev`, which on loopback also runs the receiving",
    "socket's side); waking the 10,000 receivers of the shared batch (`broadcast::notify_rx` and",
    "the task wake-ups) about 20%; hyper, the SSE body and the per-stream JSON the rest. No query",
    "runs per stream. Under 100 ms at 10,000 streams would need under 20 µs per delivery for server",
    "and load generator together on these 2 cores; the kernel's write alone takes about 14 µs.",
    "",
    "Checked again 2026-12-01 (not by this script; 10,000 streams on a 100,000-item SQLite file,",
    "10 publishes): the server makes one `writev` per delivery and nothing else per stream (strace",
    "counted 90,009 `writev` against 1,746 `epoll_wait` over 90,000 deliveries), so no system call",
    "is left to save; its CPU was about two thirds kernel (the loopback TCP path, including waking",
    "the reader) and one third user space, of which malloc and free were a third. Two attempts, both",
    "not kept: a load generator that scans each read in place instead of copying it into a string",
    "(p99 209 ms against 216 ms, the same); and mimalloc as the server's allocator, which made",
    "deliveries faster (p99 164 and 173 ms against 182 and 193 ms with glibc, alternated) but an idle",
    "stream larger (31.4 KiB against 20.3 KiB resident, which would put 50,000 streams over 1 GiB).",
    "The machine sets the pace: with the same delivery code the p99 was 237 and 228 ms on the",
    "afternoon's machine of 2026-12-01 and 117 and 109 ms on the evening's (see the top of this file).",
    "",
    "Looked at once more on 2026-12-04 (not by this script; 10,000 streams on a 100,000-item SQLite",
    "file, 10 publishes). `perf` on the server during the publishes: the kernel first (waking the",
    "reading socket's process on loopback, `sock_def_readable`, 9%; the task switches after each",
    "`writev`; the TCP send path), then axum's SSE body (3%), glibc's allocator and its arena lock",
    "(about 7% together), hyper's dispatcher, tokio's broadcast (`recv_ref`, `notify_rx`, 4%) and the",
    "request tracing layer's body wrapper (1.7%): no single part worth a 15% gain. Running the load",
    "generator's 10,000 readers on a runtime of their own (one thread) instead of sharing its two",
    "workers with the publisher gave p99 111 and 119 ms against 132 and 121 ms, alternated: within",
    "this machine's noise, not kept. Nor did taking the live stream route out from under the request",
    "tracing layer: p99 115, 138 and 133 ms without it against 147, 122 and 122 ms with it,",
    "alternated; idle streams the same size (20.6 KiB each at 10,000).",
    "",
    "| backend | load generator reads | streams held | deliveries | arrived: p50 | p99 | max | read: p50 | p99 | target: p99 < 100 ms at 10,000 streams |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for b in BACKENDS:
    for bench, reads in (("streams", "in 1 ms rounds"), ("streams_at_once", "each event at once")):
        d = get(b, bench)
        complete = d.get("deliveries", 0) == d.get("expected", -1) and d.get("stamped", 0) == d.get("expected", -1)
        ok = d.get("held", 0) >= 10_000 and complete and d.get("p99_ms", 1e9) < 100
        lines.append(
            f"| {b} | {reads} | {d.get('held', 0):,} of {d.get('streams', 0):,} | {d.get('deliveries', 0):,} of {d.get('expected', 0):,} | "
            f"{d.get('p50_ms', 0):,.0f} ms | {d.get('p99_ms', 0):,.0f} ms | {d.get('max_ms', 0):,.0f} ms | "
            f"{d.get('read_p50_ms', 0):,.0f} ms | {d.get('read_p99_ms', 0):,.0f} ms | {verdict(ok)} |"
        )
s, r = get("sqlite", "streams"), get("sqlite", "streams_refetch")
lines += [
    "",
    "### Server work per live event",
    "",
    "The server's CPU time (user and system, from `/proc`) from the first publish until every stream",
    "had every event, less its idle rate, divided by the events: what one published item costs the",
    "server to reach the streams' pages. In the single-page app a page applies the event's changed",
    "items and counts to its store and asks for nothing; the islands UI before it (fa979bb to",
    "e7725c2) fetched the whole page again on every change, one server render per open page. The",
    "second row replays that with this server: each stream's page (`/action-center`) is fetched",
    "again on each event, 64 at a time.",
    "",
    "| backend | streams held | events | page does on an event | pages fetched | server CPU per event |",
    "|---|---|---|---|---|---|",
]
for label, d in (("applies the delta", s), ("fetches its HTML again", r)):
    if d:
        lines.append(
            f"| sqlite | {d.get('held', 0):,} | {d.get('publishes', 0)} | {label} | {d.get('pages_refetched', 0):,} | "
            f"{d.get('server_cpu_ms_per_event', 0):,.0f} ms |"
        )
lines += [
    "",
    "## Idle live streams",
    "",
    "Streams held open at once and the server's resident memory (VmRSS) once they are idle.",
    "",
    "| backend | streams held | time to open all | server memory before | with the streams | per stream | target: 50,000 under 1 GiB |",
    "|---|---|---|---|---|---|---|",
]
limits = get("all", "limits")
capped = False
for b in BACKENDS:
    i = get(b, "idle")
    capped = capped or i.get("streams", 0) < 50_000
    if i.get("held", 0) >= 50_000:
        v = verdict(i.get("rss_idle", 1 << 40) < (1 << 30))
    else:
        projected = i.get("rss_before", 0) + 50_000 * i.get("bytes_per_stream", 0)
        v = (f"not measurable here; 50,000 at this rate: {projected / 2**20:,.0f} MiB "
             f"({'under' if projected < 2**30 else 'over'} 1 GiB, extrapolated)")
    lines.append(
        f"| {b} | {i.get('held', 0):,} of {i.get('streams', 0):,} | {i.get('open_seconds', 0):.0f} s | "
        f"{i.get('rss_before', 0) / 2**20:,.0f} MiB | {i.get('rss_idle', 0) / 2**20:,.0f} MiB | "
        f"{i.get('bytes_per_stream', 0) / 1024:,.1f} KiB | {v} |"
    )
if capped:
    lines += [
        "",
        f"This machine caps a process at {limits.get('open_files', '?')} open files (the hard limit, which",
        "cannot be raised inside this container), and every stream is a socket in the server and in the",
        "load generator, so fewer than the 50,000 streams asked for were opened.",
    ]
lines += [
    "",
    "Where the memory goes, from a heaptrack profile of a release server holding 3,000 idle streams",
    "(2026-11-30, `heaptrack action-center serve` with `action-center-bench streams --publishes 0`):",
    "about 24 KiB per stream is reserved by hyper for the connection, a read buffer that grows to",
    "16 KiB while the request head is read and an 8 KiB write buffer; only the pages written are",
    "resident, hence the ~19 KiB above. axum's server offers no setting for either size. The",
    "stream's own state (its future, the SSE response and its feed) is about 1 KiB.",
]
lines += [
    "",
    "## Email: the outbox drained over SMTP to a loopback sink",
    "",
    "5,000 rendered emails in the outbox, drained by one worker (the worker of one instance) with lettre's",
    "pooled SMTP connection to `smtp-sink`.",
    "",
    "| backend | emails/s | target: > 1,000/s |",
    "|---|---|---|",
]
for b in BACKENDS:
    e = get(b, "email")
    lines.append(f"| {b} | {e.get('emails_per_second', 0):,.0f} | {verdict(e.get('emails_per_second', 0) > 1000)} |")
clients = {r.get("path"): r for r in rows if r.get("backend") == "sqlite" and r.get("bench") == "client"}
lines += [
    "",
    "## The client",
    "",
    f"The release build's main wasm file: {int(raw):,} bytes raw, {int(br):,} bytes brotli. Every",
    "page outside the Action Center is a lazy route with wasm files of its own (`--split`).",
    "The target is at most 250 KB brotli of wasm and JS downloaded before the Action Center is",
    "interactive, and hydration under 150 ms. Headless Chromium loading the signed-in page from the",
    f"server on loopback with the HTTP cache off, median of {next(iter(clients.values()), {}).get('runs', 0)} loads (worst in brackets),",
    "times after navigation start, bytes as sent (brotli) with their headers. \"Hydration\" is the",
    "hydration itself, from the wasm's `hydrate()` call (after download and compilation) to the page",
    "being interactive; \"interactive\" is when that was, after navigation start:",
    "",
    "| page | first contentful paint | hydration | target: under 150 ms | interactive | wasm + JS before interactive | target: at most 250 KB |",
    "|---|---|---|---|---|---|---|",
]
for path, c in clients.items():
    code = c.get("code_bytes_before_interactive") or 0
    lines.append(
        f"| `{path}` | {c.get('first_paint_ms') or 0:,.0f} ms ({c.get('first_paint_max_ms') or 0:,.0f}) "
        f"| {c.get('hydration_ms') or 0:,.0f} ms ({c.get('hydration_max_ms') or 0:,.0f}) "
        f"| {verdict(0 < (c.get('hydration_ms') or 0) < 150)} "
        f"| {c.get('hydrated_ms') or 0:,.0f} ms ({c.get('hydrated_max_ms') or 0:,.0f}) "
        f"| {code:,} bytes | {verdict(0 < code <= 250_000)} |"
    )
lines += [
    "",
    "Every control is a form or a link, so the page is usable before it is hydrated.",
    "",
    "How the bundle got there, for the record (all figures with the release pipeline: `opt-level =",
    "\"z\"`, LTO, erased components, wasm-bindgen, `wasm-opt -Os`, `brotli -q 11`):",
    "",
    "- The whole app hydrated (2026-11-30): 2.17 MB of code before wasm-opt, mostly Leptos' generic",
    "  code instantiated per view: `reactive_graph` 407 KB, `tachys` 252 KB, the type-erased view glue",
    "  (`IntoAny`: build, hydrate, rebuild per view type) about 250 KB, the app's own functions 58 KB,",
    "  `serde_json` 49 KB, `leptos_router` 47 KB (function sizes from the name section of",
    "  `frontend.wasm`, by hand). Without `erase_components` it was 1,813,820 bytes raw and 465,653",
    "  brotli, 24% more, so the release erases components; `opt-level = \"s\"` gave 1,573,366 and",
    "  372,799, so it stays at `\"z\"`.",
    "- UI text as plain strings (275b708, f88170a, 979f5bb; 2026-12-01): each reactive string (`t!`)",
    "  was a closure type with its own render effect and build, hydrate and rebuild code; with",
    "  `tu_string!` and a language switch that reloads the page, 1,647,399 became 1,344,577 bytes raw",
    "  and 375,498 became 337,426 brotli.",
    "- Splitting by page with lazy routes, first try (`cargo leptos build --split`, not kept then):",
    "  the frame alone (the runtime, the router, the header) was 866,300 bytes raw and 241,283",
    "  brotli, and pages were slower to paint and hydrate (15 files instead of one).",
    "- Lazy routes kept (2026-12-06): at 1,641,389 bytes raw and 401,675 brotli as one file, the main",
    "  file became 1,204,513 and 316,622 with Administration, My preferences, setup, sign-in and the",
    "  bell page split off. With the three lists split off too it was 1,051,206 and 282,027, but a",
    "  list page then hydrated in 487 ms against 219 (median of 10 loads each, same machine and",
    "  hour), the Overview in 266 against 209: not kept.",
    "- A std of its own for the bundle (2026-12-07): `-Zbuild-std` with panics that abort at once, no",
    "  panic locations, shallow derived `Debug` and std's small code paths (turned on for the wasm",
    "  build alone by `RUSTC_BOOTSTRAP=1`) took the main file from 1,206,446 bytes raw and 316,800",
    "  brotli to 1,095,293 and 289,990; resources reading their JSON from bytes as the server functions",
    "  do (one serde_json reader per type instead of two) to 1,057,306 and 284,879. The three lists as",
    "  one lazy route made the main file 253,499 brotli, but a list then needed 11 more files with",
    "  58,020 bytes: not kept.",
    "- Islands, prototype (not kept): one bell island inside leptos_i18n's context island, the pane",
    "  rendered in wasm from its server function's answer: 724,971 bytes raw and 204,074 brotli.",
    "  `bench/islands-floor.sh` then measured Leptos' own floor (a counter island: 127,115 raw, 48,116",
    "  brotli) and a live badge (an `EventSource`, live messages parsed with serde_json: 210,858 and",
    "  72,718). The islands UI follows from that: no i18n in the islands (their text comes as props),",
    "  and the pane and lists as server HTML.",
    "",
]
# Measurements made by hand (A/B runs, experiments not kept) sit between these two lines in the
# file; a run of bench/run.sh keeps them where they were.
HAND_START = "<!-- measured by hand: bench/report.py keeps what follows -->"
HAND_END = "<!-- end of what was measured by hand -->"
try:
    previous = open(out).read()
except FileNotFoundError:
    previous = ""
if HAND_START in previous and HAND_END in previous:
    kept = previous[previous.index(HAND_START):previous.index(HAND_END) + len(HAND_END)]
    lines += kept.split("\n") + [""]
lines += [
    "## Query plans of the read path",
    "",
    "As `bench explain` prints them for the benchmark user on the seeded databases (SQLite: `EXPLAIN",
    "QUERY PLAN`; PostgreSQL: `EXPLAIN (ANALYZE, COSTS OFF)`, so with actual times). The statements are",
    "copies of those in `app/src/items/store.rs`.",
]
for b in BACKENDS:
    for name, plan in get(b, "explain").get("plans", {}).items():
        lines += ["", f"{b}, {name}:", "", "```", plan, "```"]
lines.append("")
open(out, "w").write("\n".join(lines))
