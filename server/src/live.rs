//! The live stream (spec §5): Server-Sent Events per signed-in user. Each event carries the
//! id of the log entry it came from; reconnecting with `Last-Event-ID` (header, or the
//! `last_event_id` query parameter for clients that cannot set headers) replays what was missed.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::auth::CurrentUser;
use app::db::{Db, DbError};
use app::items::{Counts, Reader};
use app::live::{self, Change, LiveMessage, LogEntry, LogKind, PublishedItem};
use app::state::AppState;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

/// Idle streams get a comment this often, so proxies keep them open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Entries read from the log per query.
const BATCH: i64 = 200;
/// The shared reader re-reads the log this often even without a wake-up (belt and braces).
const SAFETY_POLL: Duration = Duration::from_secs(30);
/// How long a stream adds published items to the counts it has before counting again from the
/// database (the overdue count moves with the clock, not with events).
const COUNTS_FRESH_FOR: Duration = Duration::from_secs(300);
/// Batches a slow stream may fall behind before it reads the log itself.
const HUB_BACKLOG: usize = 256;

/// New entries of one organisation's log, read once per instance for all its streams.
pub struct Batch {
    /// The entry id the batch continues from.
    after: i64,
    entries: Vec<Shared>,
}

struct Shared {
    entry: LogEntry,
    /// For a publication: the item, read once instead of once per stream.
    published: Option<Arc<PublishedItem>>,
}

/// The instance's readers of the event log, one per organisation with open streams: a publish
/// costs a few queries per instance, then each stream decides in memory what it means for its
/// user (spec §5 at scale: no per-stream query for the common event).
pub struct Hub {
    db: Db,
    orgs: Mutex<HashMap<String, broadcast::Sender<Arc<Batch>>>>,
}

impl Hub {
    pub fn new(db: Db) -> Arc<Hub> {
        Arc::new(Hub {
            db,
            orgs: Mutex::new(HashMap::new()),
        })
    }

    /// The organisation's batches from now on; starts its reader if none runs.
    fn subscribe(self: &Arc<Self>, org_id: &str) -> broadcast::Receiver<Arc<Batch>> {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = orgs.get(org_id) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(HUB_BACKLOG);
        orgs.insert(org_id.to_string(), sender.clone());
        tokio::spawn(self.clone().follow(org_id.to_string(), sender));
        receiver
    }

    /// Stops following an organisation nobody on this instance watches any more.
    fn release_if_unwatched(&self, org_id: &str, sender: &broadcast::Sender<Arc<Batch>>) -> bool {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if sender.receiver_count() > 0 {
            return false;
        }
        orgs.remove(org_id);
        true
    }

    async fn follow(self: Arc<Self>, org_id: String, sender: broadcast::Sender<Arc<Batch>>) {
        // Subscribe before reading where the log ends, so no change in between goes unseen.
        let mut changes = self.db.subscribe_changes();
        let mut last_id = loop {
            match live::latest_id(&self.db, &org_id).await {
                Ok(id) => break id,
                Err(err) => {
                    tracing::warn!(error = %err, "live reader cannot read the log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            if !wait_for_change(&mut changes, &org_id).await || self.release_if_unwatched(&org_id, &sender) {
                return;
            }
            match self.read(&org_id, last_id).await {
                Ok(batches) => {
                    for batch in batches {
                        last_id = batch.entries.last().map_or(last_id, |s| s.entry.id);
                        let _ = sender.send(Arc::new(batch));
                    }
                }
                Err(err) => tracing::warn!(error = %err, "live reader cannot read the log; retrying"),
            }
        }
    }

    /// Everything after `last_id`, with each published item read once.
    async fn read(&self, org_id: &str, mut last_id: i64) -> Result<Vec<Batch>, DbError> {
        let mut batches = Vec::new();
        loop {
            let entries = live::org_entries_after(&self.db, org_id, last_id, BATCH).await?;
            let Some(last) = entries.last() else {
                return Ok(batches);
            };
            let (after, next) = (last_id, last.id);
            let mut shared = Vec::with_capacity(entries.len());
            for entry in entries {
                let published = match entry.kind {
                    LogKind::Published => live::published_item(&self.db, &entry.subject)
                        .await?
                        .map(Arc::new),
                    _ => None,
                };
                shared.push(Shared { entry, published });
            }
            batches.push(Batch {
                after,
                entries: shared,
            });
            last_id = next;
        }
    }
}

/// Waits until the organisation's log may have grown; false when the server shuts down.
async fn wait_for_change(changes: &mut broadcast::Receiver<Arc<str>>, org_id: &str) -> bool {
    let deadline = tokio::time::sleep(SAFETY_POLL);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            received = changes.recv() => match received {
                Ok(org) if *org == *org_id || &*org == app::db::ALL_ORGS => return true,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => return true,
                Err(RecvError::Closed) => return false,
            },
            _ = &mut deadline => return true,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    last_event_id: Option<String>,
}

/// `GET /api/live`: the signed-in user's event stream.
pub async fn stream(
    State(state): State<AppState>,
    Extension(hub): Extension<Arc<Hub>>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Response {
    let Some(Extension(user)) = user else {
        return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response();
    };
    let reader = user.reader_for(&headers);
    let requested = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.last_event_id)
        .and_then(|id| id.trim().parse::<i64>().ok());
    let feed = match Feed::start(&state, &hub, reader, requested).await {
        Ok(feed) => feed,
        Err(err) => {
            tracing::error!(error = %err, "cannot open a live stream");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Live updates are unavailable right now.",
            )
                .into_response();
        }
    };
    let mut response = Sse::new(feed.into_stream())
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response();
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// One user's position in their organisation's event log.
struct Feed {
    db: Db,
    reader: Reader,
    roles: Vec<app::orgs::Role>,
    last_id: i64,
    batches: broadcast::Receiver<Arc<Batch>>,
    queue: VecDeque<Event>,
    counts: Counts,
    /// When `counts` were made from the database; `None` when they may not match `last_id`.
    counted_at: Option<Instant>,
    /// True until the stream has read the log up to its end itself: at the start (a resumed
    /// stream replays what it missed) and after a failed read.
    behind: bool,
}

impl Feed {
    async fn start(
        state: &AppState,
        hub: &Arc<Hub>,
        reader: Reader,
        requested: Option<i64>,
    ) -> Result<Feed, DbError> {
        let db = state.db.clone();
        // Subscribe before reading the log, so nothing committed in between is missed.
        let batches = hub.subscribe(&reader.org_id);
        let roles = app::orgs::roles_of(&db, &reader.user_id).await?;
        let (latest, counts, exact) = counted_at_log_end(
            || live::latest_id(&db, &reader.org_id),
            |at| {
                state
                    .cache
                    .counts(&db, &reader, &roles, Some(live::LogPosition(at)))
            },
        )
        .await?;
        let oldest = live::oldest_id(&db, &reader.org_id).await?;
        let mut queue = VecDeque::new();
        let last_id = match requested {
            // A resume point the log still covers: replay from there.
            Some(id) if id <= latest && oldest.is_none_or(|oldest| id >= oldest - 1) => id,
            // Too old (pruned) or from another database: start over.
            Some(_) => {
                queue.push_back(message(
                    latest,
                    &LiveMessage {
                        changes: vec![Change::Resync],
                        counts,
                    },
                ));
                latest
            }
            // A new stream starts with the current counts.
            None => {
                queue.push_back(message(
                    latest,
                    &LiveMessage {
                        changes: vec![],
                        counts,
                    },
                ));
                latest
            }
        };
        Ok(Feed {
            db,
            reader,
            roles,
            last_id,
            batches,
            queue,
            counts,
            // Counts that may hold entries past `last_id` are not added to: the stream's
            // next publication is then judged with the database's help, which counts anew.
            counted_at: exact.then(Instant::now),
            behind: true,
        })
    }

    /// The feed as an event stream. The stream's future is what an idle stream costs in
    /// memory, so everything that queries the database is boxed and allocated only while it
    /// runs; the future then holds little more than the wait on the shared batches.
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut feed| async move {
            loop {
                if let Some(event) = feed.queue.pop_front() {
                    return Some((Ok(event), feed));
                }
                // Drained: give its buffer back rather than keep it for the next event.
                feed.queue = VecDeque::new();
                let step = if feed.behind {
                    Box::pin(feed.catch_up()).await.map(|_| true)
                } else {
                    match feed.batches.recv().await {
                        Ok(batch) => Box::pin(feed.apply_batch(batch)).await.map(|_| true),
                        Err(RecvError::Lagged(_)) => Box::pin(feed.catch_up()).await.map(|_| true),
                        Err(RecvError::Closed) => Ok(false),
                    }
                };
                match step {
                    Ok(true) => feed.behind = false,
                    Ok(false) => return None,
                    Err(err) => {
                        tracing::warn!(error = %err, "live stream cannot read the log; retrying");
                        Box::pin(tokio::time::sleep(Duration::from_secs(1))).await;
                        feed.behind = true;
                    }
                }
            }
        })
    }

    /// Reads the log itself up to its end (on resume, after a gap, or when it fell behind).
    async fn catch_up(&mut self) -> Result<(), DbError> {
        loop {
            let entries = live::entries_after(
                &self.db,
                &self.reader.org_id,
                &self.reader.user_id,
                self.last_id,
                BATCH,
            )
            .await?;
            if entries.is_empty() {
                return Ok(());
            }
            for entry in &entries {
                self.apply_from_db(entry).await?;
            }
        }
    }

    /// Applies one shared batch, reading the log itself first if the batch starts past where
    /// this stream is.
    async fn apply_batch(&mut self, batch: Arc<Batch>) -> Result<(), DbError> {
        if batch.after > self.last_id {
            self.catch_up().await?;
        }
        for shared in &batch.entries {
            let entry = &shared.entry;
            if entry.id <= self.last_id {
                continue;
            }
            if entry.user_id.as_ref().is_some_and(|u| *u != self.reader.user_id) {
                self.last_id = entry.id;
                continue;
            }
            match &shared.published {
                Some(item)
                    if entry.user_id.is_none()
                        && self.counted_at.is_some_and(|at| at.elapsed() < COUNTS_FRESH_FOR) =>
                {
                    if let Some((counts, json)) =
                        live::published_message_json(item, &self.reader, &self.roles, self.counts)
                    {
                        self.counts = counts;
                        self.queue.push_back(event(entry.id, json));
                    }
                    self.last_id = entry.id;
                }
                _ => self.apply_from_db(entry).await?,
            }
        }
        Ok(())
    }

    /// Turns one entry into a message with the database's help (anything but a publication
    /// the stream can judge from the shared copy).
    async fn apply_from_db(&mut self, entry: &LogEntry) -> Result<(), DbError> {
        if entry.kind == LogKind::RolesChanged && entry.user_id.as_deref() == Some(&self.reader.user_id) {
            self.roles = app::orgs::roles_of(&self.db, &self.reader.user_id).await?;
        }
        if let Some(msg) = live::live_message(&self.db, &self.reader, entry).await? {
            self.counts = msg.counts;
            self.counted_at = Some(Instant::now());
            self.queue.push_back(message(entry.id, &msg));
        }
        self.last_id = entry.id;
        Ok(())
    }
}

/// Times the log's end is read again when it moved while a new stream counted.
const COUNT_TRIES: usize = 3;

/// A new stream's counts and the log position they are exact at. Counting takes several
/// queries, and an entry committed meanwhile would be counted and then added again when the
/// stream applies it; so the log's end is read before and after counting, and the counts are
/// used as of that position only when both reads agree. Every change that moves counts appends
/// to the log in its own transaction, so agreeing reads mean nothing changed in between. When
/// the log keeps moving, the last counts are returned with `false`: not exact at the position.
async fn counted_at_log_end<E, End, EndFut, Count, CountFut>(
    mut log_end: End,
    mut count: Count,
) -> Result<(i64, Counts, bool), E>
where
    End: FnMut() -> EndFut,
    EndFut: Future<Output = Result<i64, E>>,
    Count: FnMut(i64) -> CountFut,
    CountFut: Future<Output = Result<Counts, E>>,
{
    let mut before = log_end().await?;
    let mut tries = 0;
    loop {
        let counts = count(before).await?;
        let after = log_end().await?;
        tries += 1;
        if after == before || tries == COUNT_TRIES {
            return Ok((before, counts, after == before));
        }
        before = after;
    }
}

fn message(id: i64, msg: &LiveMessage) -> Event {
    event(id, serde_json::to_string(msg).unwrap_or_default())
}

fn event(id: i64, json: String) -> Event {
    Event::default().id(id.to_string()).data(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts that include what the log gained while they were made: 1 per entry.
    async fn count_log(
        log: &std::cell::Cell<i64>,
        moves: &std::cell::Cell<usize>,
    ) -> Result<Counts, DbError> {
        let counts = Counts {
            pending_actions: log.get(),
            ..Counts::default()
        };
        if moves.get() > 0 {
            moves.set(moves.get() - 1);
            log.set(log.get() + 1);
        }
        Ok(counts)
    }

    #[tokio::test]
    async fn a_new_stream_counts_again_when_the_log_moved_meanwhile() {
        let log = std::cell::Cell::new(7);
        let moves = std::cell::Cell::new(1);
        let (at, counts, exact) = counted_at_log_end(
            || async { Ok::<_, DbError>(log.get()) },
            |_| count_log(&log, &moves),
        )
        .await
        .unwrap();
        assert!(exact);
        assert_eq!((at, counts.pending_actions), (8, 8));
    }

    #[tokio::test]
    async fn a_new_stream_says_when_its_counts_are_not_exact() {
        let log = std::cell::Cell::new(7);
        let moves = std::cell::Cell::new(usize::MAX);
        let (at, counts, exact) = counted_at_log_end(
            || async { Ok::<_, DbError>(log.get()) },
            |_| count_log(&log, &moves),
        )
        .await
        .unwrap();
        assert!(!exact);
        assert_eq!(at, 7 + COUNT_TRIES as i64 - 1);
        assert_eq!(counts.pending_actions, at);
    }

    /// An idle stream holds this future for as long as it is open, and a future is as large as
    /// its largest state: with the database paths boxed it takes 432 bytes (debug build), with
    /// the batch path inline 904, which every open stream would carry.
    #[tokio::test]
    async fn an_idle_stream_is_small() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let (_sender, batches) = broadcast::channel(1);
        let feed = Feed {
            db,
            reader: Reader {
                user_id: "u".into(),
                org_id: "o".into(),
                language: "en".into(),
            },
            roles: vec![],
            last_id: 0,
            batches,
            queue: VecDeque::new(),
            counts: Counts::default(),
            counted_at: Some(Instant::now()),
            behind: true,
        };
        let stream = feed.into_stream();
        let size = std::mem::size_of_val(&stream);
        assert!(size < 512, "an idle live stream's future takes {size} bytes");
    }
}
