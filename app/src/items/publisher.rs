//! Group commit for the producer API. Publications that arrive while the writer is busy wait
//! in a queue and are then written together by `publish_all`: one transaction, one statement
//! per table and one commit for the batch, so the cost of a commit (SQLite's fsync,
//! PostgreSQL's WAL flush) and of the statements' round trips is paid per batch, not per item.
//! A lone publication is written at once, as a batch of one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::payload::Catalog;
use super::{MAX_BATCH, Publication, Published, catalog, publish_all};
use crate::db::{Db, DbError};

/// How long the catalogs publications are checked against are used before they are read again.
/// They change only with a migration or an operator's edit of the `roles` and `workspaces`
/// tables, which reaches every instance within this time.
pub const CATALOG_FRESH_FOR: Duration = Duration::from_secs(60);

/// Publications that may wait for the writer at once; past it, callers wait to queue.
const QUEUE: usize = 16 * MAX_BATCH;

struct Request {
    publication: Publication,
    reply: oneshot::Sender<Published>,
}

/// The instance's writer of publications; cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    queue: mpsc::Sender<Request>,
    catalogs: Arc<Catalogs>,
}

impl Publisher {
    /// Starts the writer task (it ends when the last `Publisher` is dropped).
    pub fn start(db: Db) -> Publisher {
        let catalogs = Arc::new(Catalogs::new(db.clone(), CATALOG_FRESH_FOR));
        let (queue, mut requests) = mpsc::channel::<Request>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (publications, replies): (Vec<_>, Vec<_>) =
                    batch.drain(..).map(|r| (r.publication, r.reply)).unzip();
                let results = publish_all(&db, &publications).await;
                for (reply, result) in replies.into_iter().zip(results) {
                    // The caller may have gone (client disconnected); the item stays published.
                    let _ = reply.send(result);
                }
            }
        });
        Publisher { queue, catalogs }
    }

    /// The catalogs to check a payload against (see `CATALOG_FRESH_FOR`).
    pub async fn catalog(&self) -> Result<Arc<Catalog>, DbError> {
        self.catalogs.current().await
    }

    /// Publishes through the queue; the same result as `items::publish`.
    pub async fn publish(&self, publication: Publication) -> Published {
        let stopped = || DbError::Failed("the publisher has stopped".into()).into();
        let (reply, answer) = oneshot::channel();
        if self.queue.send(Request { publication, reply }).await.is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

/// The catalogs as last read.
#[derive(Debug)]
struct Catalogs {
    db: Db,
    fresh_for: Duration,
    last: Mutex<Option<(Arc<Catalog>, Instant)>>,
}

impl Catalogs {
    fn new(db: Db, fresh_for: Duration) -> Catalogs {
        Catalogs {
            db,
            fresh_for,
            last: Mutex::default(),
        }
    }

    async fn current(&self) -> Result<Arc<Catalog>, DbError> {
        let fresh = {
            let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            last.as_ref()
                .filter(|(_, read_at)| read_at.elapsed() < self.fresh_for)
                .map(|(catalog, _)| catalog.clone())
        };
        if let Some(catalog) = fresh {
            return Ok(catalog);
        }
        let catalog = Arc::new(catalog(&self.db).await?);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((catalog.clone(), Instant::now()));
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Backend, scratch::ScratchDb};

    async fn add_workspace(db: &Db, name: &str) {
        sqlx::query("INSERT INTO workspaces (name) VALUES ($1)")
            .bind(name)
            .execute(db.pool())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn catalogs_are_read_again_once_they_are_old() {
        let scratch = ScratchDb::new(Backend::Sqlite).await;
        let db = &scratch.db;
        let kept = Catalogs::new(db.clone(), Duration::from_secs(3600));
        let renewed = Catalogs::new(db.clone(), Duration::ZERO);
        let before = kept.current().await.unwrap();
        assert_eq!(before.roles, catalog(db).await.unwrap().roles);
        assert!(!before.workspaces.contains("Bench lab"));
        renewed.current().await.unwrap();
        add_workspace(db, "Bench lab").await;
        assert!(!kept.current().await.unwrap().workspaces.contains("Bench lab"));
        assert!(renewed.current().await.unwrap().workspaces.contains("Bench lab"));
    }
}
