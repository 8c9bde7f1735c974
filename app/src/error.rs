//! The error the UI receives from a server function, in words a user can act on.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("Please sign in again.")]
    Unauthenticated,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("This item is not available to you.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    #[error("The server could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                AppError::Invalid(format!("The request was not understood: {msg}"))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        tracing::error!(error = %err, "storage failed");
        AppError::Internal
    }
}

impl AppError {
    /// The HTTP status a server function answers with when it fails this way.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}
