//! Email (spec §3, §4): what is sent to whom, rendered in the recipient's language, kept in a
//! durable outbox and delivered by a worker over SMTP (or into a folder of `.eml` files).
//!
//! The publish path stays light: it only stores the item. The worker plans its email later
//! (one outbox row per recipient who should get it, keyed so that no pair is planned twice),
//! plans reminders as due dates approach, and drains the outbox with retries and backoff.

pub mod digest;
pub mod links;
pub mod outbox;
pub mod render;
pub mod transport;
pub mod worker;

pub use links::{Links, SigningKey, UnsubscribeTarget};
pub use transport::Transport;
pub use worker::Worker;

use crate::db::DbError;

/// Why an email was written into the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A newly published item.
    Item,
    /// An open action, 7 days before it is due.
    Reminder7d,
    /// An open action, 1 day before it is due.
    Reminder1d,
    /// An open action past its due date (once).
    Overdue,
    /// The link that verifies a changed notification email.
    Verify,
    /// An invitation with the link to choose a password.
    Invite,
    /// A daily or weekly digest of notifications.
    Digest,
}

impl Purpose {
    /// The reminder stages of an open action, in order.
    pub const REMINDERS: [Purpose; 3] = [Purpose::Reminder7d, Purpose::Reminder1d, Purpose::Overdue];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Item => "item",
            Purpose::Reminder7d => "reminder_7d",
            Purpose::Reminder1d => "reminder_1d",
            Purpose::Overdue => "overdue",
            Purpose::Verify => "verify",
            Purpose::Invite => "invite",
            Purpose::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [
            Purpose::Item,
            Purpose::Reminder7d,
            Purpose::Reminder1d,
            Purpose::Overdue,
            Purpose::Verify,
            Purpose::Invite,
            Purpose::Digest,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot render email: {0}")]
    Render(String),
    #[error("invalid mail configuration: {0}")]
    Config(String),
    #[error("cannot read the items for a digest: {0}")]
    Items(String),
}

impl From<crate::items::ItemError> for EmailError {
    fn from(err: crate::items::ItemError) -> Self {
        match err {
            crate::items::ItemError::Db(e) => EmailError::Db(e),
            other => EmailError::Items(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for EmailError {
    fn from(err: sqlx::Error) -> Self {
        EmailError::Db(err.into())
    }
}
