//! The email worker: plans item email and reminders, then drains the outbox. It runs on every
//! instance; the outbox's keys and leases keep any email from going out twice.

use std::time::Duration;

use futures_util::StreamExt;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use sha2::{Digest, Sha256};

use super::EmailError;
use super::links::Links;
use super::outbox::{self, Claimed};
use super::transport::{DeliveryError, Transport};
use crate::db::{Db, now_ms};

/// Rows claimed per pass.
pub const SEND_BATCH: i64 = 100;
/// Messages in flight at once.
pub const SEND_CONCURRENCY: usize = 8;

#[derive(Clone, Debug)]
pub struct Worker {
    db: Db,
    links: Links,
    transport: Transport,
    from: Mailbox,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub planned: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Worker {
    pub fn new(db: Db, links: Links, transport: Transport, from: &str) -> Result<Worker, EmailError> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| EmailError::Config(format!("MAIL_FROM {from:?} is not a mailbox ({e})")))?;
        Ok(Worker {
            db,
            links,
            transport,
            from,
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// One pass at time `now`: plan, then send one batch of what is due.
    pub async fn run_once(&self, now: i64) -> Result<Tally, EmailError> {
        let mut tally = Tally {
            planned: outbox::plan_new_items(&self.db, &self.links, now).await?
                + outbox::plan_reminders(&self.db, &self.links, now).await?
                + super::digest::plan_digests(&self.db, &self.links, now).await?,
            ..Tally::default()
        };
        let claimed = outbox::claim(&self.db, now, SEND_BATCH).await?;
        // Several messages in flight at once, over the transport's pooled connections.
        let results: Vec<(Claimed, Result<(), DeliveryError>)> = futures_util::stream::iter(claimed)
            .map(|claimed| async move {
                let result = match self.message(&claimed) {
                    Ok(message) => {
                        let stem = format!("{:08}-{}", claimed.id, claimed.purpose);
                        self.transport.deliver(message, &stem).await
                    }
                    Err(e) => Err(DeliveryError::Permanent(e)),
                };
                (claimed, result)
            })
            .buffer_unordered(SEND_CONCURRENCY)
            .collect()
            .await;
        let sent: Vec<i64> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(c, _)| c.id)
            .collect();
        outbox::mark_sent(&self.db, &sent, now_ms().max(now)).await?;
        tally.sent = sent.len();
        for (claimed, result) in results {
            match result {
                Ok(()) => {}
                Err(err) => {
                    let permanent = matches!(err, DeliveryError::Permanent(_));
                    if outbox::mark_failed_attempt(&self.db, &claimed, &err.to_string(), permanent, now)
                        .await?
                    {
                        tracing::error!(id = claimed.id, to = %claimed.to, error = %err, "email given up");
                        tally.failed += 1;
                    } else {
                        tracing::warn!(id = claimed.id, attempt = claimed.attempts, error = %err, "email delivery failed; will retry");
                        tally.retrying += 1;
                    }
                }
            }
        }
        Ok(tally)
    }

    /// Runs until the process ends: a pass whenever something changed, at least every second.
    pub async fn run(self) {
        let mut changes = self.db.subscribe_changes();
        loop {
            let busy = match self.run_once(now_ms()).await {
                Ok(t) => t.planned > 0 || t.sent + t.retrying + t.failed >= SEND_BATCH as usize,
                Err(err) => {
                    tracing::warn!(error = %err, "email worker pass failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = changes.recv() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    fn message(&self, claimed: &Claimed) -> Result<Message, String> {
        let to: Mailbox = claimed
            .to
            .parse()
            .map_err(|e| format!("{:?} is not an address ({e})", claimed.to))?;
        // The same Message-ID on a resend lets the receiving side drop a duplicate.
        let id = hex::encode(&Sha256::digest(claimed.dedupe_key.as_bytes())[..16]);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(claimed.subject.clone())
            .message_id(Some(format!("<{id}@{}>", self.links.host())));
        for (name, value) in &claimed.headers {
            let name =
                HeaderName::new_from_ascii(name.clone()).map_err(|e| format!("header {name:?}: {e}"))?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                claimed.text.clone(),
                claimed.html.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}
