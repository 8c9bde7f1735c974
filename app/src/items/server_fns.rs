//! The typed server functions the UI uses for items. Each one acts only on items that reach
//! the signed-in user.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{Counts, ItemFilter, ItemPage, ItemView};
use crate::error::AppError;

#[cfg(feature = "ssr")]
impl From<super::ItemError> for AppError {
    fn from(err: super::ItemError) -> Self {
        use super::ItemError;
        match err {
            ItemError::NotFound => AppError::NotFound,
            ItemError::MandatoryCannotBeArchived => {
                AppError::Invalid("A mandatory action cannot be archived.".into())
            }
            ItemError::Invalid(e) => AppError::Invalid(e.message),
            ItemError::Db(e) => e.into(),
            other => AppError::Invalid(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
async fn apply(item_id: String, action: super::UserAction) -> Result<ItemView, AppError> {
    let (state, reader) = crate::auth::session::require_reader()?;
    Ok(super::apply(&state.db, &reader, &item_id, action).await?)
}

/// A page of the signed-in user's items.
#[server(endpoint = "items_list", input = Json)]
pub async fn list_items(filter: ItemFilter) -> Result<ItemPage, AppError> {
    let (state, reader) = crate::auth::session::require_reader()?;
    Ok(super::list(&state.db, &reader, &filter).await?)
}

/// The badge and overview counts of the signed-in user.
#[server(endpoint = "items_counts")]
pub async fn item_counts() -> Result<Counts, AppError> {
    let (state, reader) = crate::auth::session::require_reader()?;
    Ok(super::counts(&state.db, &reader).await?)
}

#[server(endpoint = "items_read")]
pub async fn mark_read(item_id: String) -> Result<ItemView, AppError> {
    apply(item_id, super::UserAction::Read).await
}

#[server(endpoint = "items_archive")]
pub async fn archive_item(item_id: String) -> Result<ItemView, AppError> {
    apply(item_id, super::UserAction::Archive).await
}

#[server(endpoint = "items_unarchive")]
pub async fn unarchive_item(item_id: String) -> Result<ItemView, AppError> {
    apply(item_id, super::UserAction::Unarchive).await
}
