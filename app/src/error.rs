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
    Invalid(Refusal),
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
                AppError::Invalid(Refusal::NotUnderstood { detail: msg })
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

/// Why the server refused what the user asked, as a code with its details: the UI puts it in
/// the user's language (`ui::error_text`); the English here is for logs and the no-UI callers.
///
/// On the wire it is an object with its `code` beside its details. It is read through
/// `RefusalWire`, a plain struct: serde reads an internally tagged enum by buffering the object
/// first, and that reader cost the browser bundle more than every other type's together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case", try_from = "RefusalWire")]
pub enum Refusal {
    #[error("A mandatory action cannot be archived.")]
    MandatoryNotArchivable,
    #[error("A mandatory action cannot be snoozed.")]
    MandatoryNotSnoozable,
    #[error("Only actions can be completed or cancelled.")]
    NotAnAction,
    #[error("The action is already closed.")]
    AlreadyClosed,
    #[error("Select the items to archive first.")]
    NothingSelected,
    #[error("Select at most {max} items at once.")]
    TooManySelected { max: usize },
    #[error("{refused} of {total} could not be archived: {reason}")]
    SomeNotArchived {
        refused: usize,
        total: usize,
        reason: Box<AppError>,
    },
    #[error("A job function is at most 100 characters.")]
    JobFunctionTooLong,
    #[error("Choose one of the offered email languages.")]
    LanguageNotOffered,
    #[error("Enter a valid email address.")]
    EmailInvalid,
    #[error("Choose a time zone from the list.")]
    UnknownTimeZone,
    #[error("Quiet hours need a start and an end hour (0 to 23) that differ.")]
    QuietHours,
    #[error("In-app notifications cannot be turned off.")]
    InAppLocked,
    #[error("Email for {category} actions cannot be turned off.")]
    ActionEmailLocked { category: String },
    #[error("There is no email category {name:?}.")]
    UnknownCategory { name: String },
    #[error("There is no workspace {name:?}.")]
    UnknownWorkspace { name: String },
    #[error("There is no role {name:?}.")]
    UnknownRole { name: String },
    #[error("There is already an account with this email address.")]
    AccountExists,
    #[error("A display name is 1 to 200 characters.")]
    DisplayName,
    #[error("An organisation needs at least one account admin: grant account_admin to someone else first.")]
    LastAdmin,
    #[error("Your notification email is already verified.")]
    AlreadyVerified,
    #[error(
        "A verification email was sent less than a minute ago. Check your inbox, or try again in a minute."
    )]
    VerificationTooSoon,
    #[error("The request was not understood: {detail}")]
    NotUnderstood { detail: String },
}

/// The codes of `Refusal`, as its variants are named on the wire.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RefusalCode {
    MandatoryNotArchivable,
    MandatoryNotSnoozable,
    NotAnAction,
    AlreadyClosed,
    NothingSelected,
    TooManySelected,
    SomeNotArchived,
    JobFunctionTooLong,
    LanguageNotOffered,
    EmailInvalid,
    UnknownTimeZone,
    QuietHours,
    InAppLocked,
    ActionEmailLocked,
    UnknownCategory,
    UnknownWorkspace,
    UnknownRole,
    AccountExists,
    DisplayName,
    LastAdmin,
    AlreadyVerified,
    VerificationTooSoon,
    NotUnderstood,
}

/// A `Refusal` as it is read: its code and every detail any refusal has.
#[derive(Deserialize)]
struct RefusalWire {
    code: RefusalCode,
    max: Option<usize>,
    refused: Option<usize>,
    total: Option<usize>,
    reason: Option<Box<AppError>>,
    category: Option<String>,
    name: Option<String>,
    detail: Option<String>,
}

impl TryFrom<RefusalWire> for Refusal {
    type Error = String;

    fn try_from(wire: RefusalWire) -> Result<Refusal, String> {
        fn needs<T>(value: Option<T>, field: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{field}`"))
        }
        use RefusalCode as C;
        Ok(match wire.code {
            C::MandatoryNotArchivable => Refusal::MandatoryNotArchivable,
            C::MandatoryNotSnoozable => Refusal::MandatoryNotSnoozable,
            C::NotAnAction => Refusal::NotAnAction,
            C::AlreadyClosed => Refusal::AlreadyClosed,
            C::NothingSelected => Refusal::NothingSelected,
            C::TooManySelected => Refusal::TooManySelected {
                max: needs(wire.max, "max")?,
            },
            C::SomeNotArchived => Refusal::SomeNotArchived {
                refused: needs(wire.refused, "refused")?,
                total: needs(wire.total, "total")?,
                reason: needs(wire.reason, "reason")?,
            },
            C::JobFunctionTooLong => Refusal::JobFunctionTooLong,
            C::LanguageNotOffered => Refusal::LanguageNotOffered,
            C::EmailInvalid => Refusal::EmailInvalid,
            C::UnknownTimeZone => Refusal::UnknownTimeZone,
            C::QuietHours => Refusal::QuietHours,
            C::InAppLocked => Refusal::InAppLocked,
            C::ActionEmailLocked => Refusal::ActionEmailLocked {
                category: needs(wire.category, "category")?,
            },
            C::UnknownCategory => Refusal::UnknownCategory {
                name: needs(wire.name, "name")?,
            },
            C::UnknownWorkspace => Refusal::UnknownWorkspace {
                name: needs(wire.name, "name")?,
            },
            C::UnknownRole => Refusal::UnknownRole {
                name: needs(wire.name, "name")?,
            },
            C::AccountExists => Refusal::AccountExists,
            C::DisplayName => Refusal::DisplayName,
            C::LastAdmin => Refusal::LastAdmin,
            C::AlreadyVerified => Refusal::AlreadyVerified,
            C::VerificationTooSoon => Refusal::VerificationTooSoon,
            C::NotUnderstood => Refusal::NotUnderstood {
                detail: needs(wire.detail, "detail")?,
            },
        })
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Invalid(refusal)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI reads refusals by their code: the wire form is a contract.
    #[test]
    fn refusals_travel_as_codes_with_their_details() {
        let refusal = AppError::Invalid(Refusal::SomeNotArchived {
            refused: 1,
            total: 2,
            reason: Box::new(Refusal::MandatoryNotArchivable.into()),
        });
        let json = serde_json::to_value(&refusal).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "Invalid": { "code": "some_not_archived", "refused": 1, "total": 2,
                "reason": { "Invalid": { "code": "mandatory_not_archivable" } } } })
        );
        assert_eq!(serde_json::from_value::<AppError>(json).unwrap(), refusal);
        assert_eq!(
            refusal.to_string(),
            "1 of 2 could not be archived: A mandatory action cannot be archived."
        );
    }

    /// Every refusal reads back as it was written; one without its details is refused.
    #[test]
    fn every_refusal_reads_back() {
        let text = || "x".to_string();
        let refusals = [
            Refusal::MandatoryNotArchivable,
            Refusal::MandatoryNotSnoozable,
            Refusal::NotAnAction,
            Refusal::AlreadyClosed,
            Refusal::NothingSelected,
            Refusal::TooManySelected { max: 100 },
            Refusal::SomeNotArchived {
                refused: 1,
                total: 3,
                reason: Box::new(AppError::Forbidden),
            },
            Refusal::JobFunctionTooLong,
            Refusal::LanguageNotOffered,
            Refusal::EmailInvalid,
            Refusal::UnknownTimeZone,
            Refusal::QuietHours,
            Refusal::InAppLocked,
            Refusal::ActionEmailLocked { category: text() },
            Refusal::UnknownCategory { name: text() },
            Refusal::UnknownWorkspace { name: text() },
            Refusal::UnknownRole { name: text() },
            Refusal::AccountExists,
            Refusal::DisplayName,
            Refusal::LastAdmin,
            Refusal::AlreadyVerified,
            Refusal::VerificationTooSoon,
            Refusal::NotUnderstood { detail: text() },
        ];
        for refusal in refusals {
            let json = serde_json::to_value(&refusal).unwrap();
            assert_eq!(serde_json::from_value::<Refusal>(json).unwrap(), refusal);
        }
        assert_eq!(
            serde_json::to_value(Refusal::UnknownRole { name: text() }).unwrap(),
            serde_json::json!({ "code": "unknown_role", "name": "x" })
        );
        for broken in [
            serde_json::json!({ "code": "too_many_selected" }),
            serde_json::json!({ "code": "some_not_archived", "refused": 1, "total": 2 }),
            serde_json::json!({ "code": "no_such_refusal" }),
            serde_json::json!({ "name": "x" }),
        ] {
            assert!(
                serde_json::from_value::<Refusal>(broken.clone()).is_err(),
                "{broken}"
            );
        }
    }
}
