//! Group commit for the producer API. Publications that arrive while the writer is busy wait
//! in a queue and are then written together by `publish_all`: one transaction, one statement
//! per table and one commit for the batch, so the cost of a commit (SQLite's fsync,
//! PostgreSQL's WAL flush) and of the statements' round trips is paid per batch, not per item.
//! A lone publication is written at once, as a batch of one.

use tokio::sync::{mpsc, oneshot};

use super::{MAX_BATCH, Publication, Published, publish_all};
use crate::db::{Db, DbError};

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
}

impl Publisher {
    /// Starts the writer task (it ends when the last `Publisher` is dropped).
    pub fn start(db: Db) -> Publisher {
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
        Publisher { queue }
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
