//! The live stream (spec §5): Server-Sent Events per signed-in user. Each event carries the
//! id of the log entry it came from; reconnecting with `Last-Event-ID` (header, or the
//! `last_event_id` query parameter for clients that cannot set headers) replays what was missed.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::auth::CurrentUser;
use app::db::Db;
use app::items::{self, Reader};
use app::live::{self, Change, LiveMessage};
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
/// A stream re-reads the log this often even without a wake-up (belt and braces).
const SAFETY_POLL: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    last_event_id: Option<String>,
}

/// `GET /api/live`: the signed-in user's event stream.
pub async fn stream(
    State(state): State<AppState>,
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
    // Subscribe before reading the log, so nothing committed in between is missed.
    let changes = state.db.subscribe_changes();
    let feed = match Feed::start(state.db.clone(), reader, requested, changes).await {
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
    last_id: i64,
    changes: broadcast::Receiver<Arc<str>>,
    queue: VecDeque<Event>,
}

impl Feed {
    async fn start(
        db: Db,
        reader: Reader,
        requested: Option<i64>,
        changes: broadcast::Receiver<Arc<str>>,
    ) -> Result<Feed, app::db::DbError> {
        let latest = live::latest_id(&db, &reader.org_id).await?;
        let oldest = live::oldest_id(&db, &reader.org_id).await?;
        let mut queue = VecDeque::new();
        let counts = items::counts(&db, &reader).await?;
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
            last_id,
            changes,
            queue,
        })
    }

    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut feed| async move {
            loop {
                if let Some(event) = feed.queue.pop_front() {
                    return Some((Ok(event), feed));
                }
                match feed.catch_up().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "live stream cannot read the log; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
                if !feed.wait().await {
                    return None;
                }
            }
        })
    }

    /// Turns new log entries into queued events; whether any entry was read.
    async fn catch_up(&mut self) -> Result<bool, app::db::DbError> {
        let entries = live::entries_after(
            &self.db,
            &self.reader.org_id,
            &self.reader.user_id,
            self.last_id,
            BATCH,
        )
        .await?;
        if entries.is_empty() {
            return Ok(false);
        }
        for entry in entries {
            if let Some(msg) = items::live_message(&self.db, &self.reader, &entry).await? {
                self.queue.push_back(message(entry.id, &msg));
            }
            self.last_id = entry.id;
        }
        Ok(true)
    }

    /// Waits until the organisation's log may have grown; false when the server shuts down.
    async fn wait(&mut self) -> bool {
        let deadline = tokio::time::sleep(SAFETY_POLL);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                received = self.changes.recv() => match received {
                    Ok(org) if *org == *self.reader.org_id || &*org == app::db::ALL_ORGS => return true,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                },
                _ = &mut deadline => return true,
            }
        }
    }
}

fn message(id: i64, msg: &LiveMessage) -> Event {
    Event::default()
        .id(id.to_string())
        .data(serde_json::to_string(msg).unwrap_or_default())
}
