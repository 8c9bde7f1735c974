//! What can go wrong with an item, in storage terms; `AppError` words it for the UI and the API.

use super::payload::FieldError;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("the idempotency key was already used with a different payload")]
    IdempotencyConflict,
    #[error("no such item")]
    NotFound,
    #[error("only actions can be completed or cancelled")]
    NotAnAction,
    #[error("the item is already {0}")]
    AlreadyClosed(&'static str),
    #[error("a mandatory action cannot be archived")]
    MandatoryCannotBeArchived,
    #[error("a mandatory action cannot be snoozed")]
    MandatoryCannotBeSnoozed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ItemError {
    fn from(err: sqlx::Error) -> Self {
        ItemError::Db(err.into())
    }
}
