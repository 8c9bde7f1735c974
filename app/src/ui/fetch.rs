//! What the frame and the Action Center's views fetch again in the browser, once their page
//! has been rendered: the same server functions, but in the browser through lazy functions, so
//! that the code calling them is a wasm file of its own, fetched the first time a view needs
//! fresh data (a filter changed, the stream resynced) and not before the page is interactive.
//! Their first data always comes with the page. On the server they call the server function
//! directly: a lazy function called there has the browser preload its file.

use super::Frame;
use crate::error::AppError;
use crate::items::{ItemFilter, ItemPage, Overview, Workspace};

pub async fn frame() -> Result<Frame, AppError> {
    #[cfg(feature = "hydrate")]
    return client::frame().await;
    #[cfg(not(feature = "hydrate"))]
    load_frame().await
}

/// The user, then (for a user) their pending actions; a failure to count leaves the badge out.
async fn load_frame() -> Result<Frame, AppError> {
    let user = crate::auth::get_current_user().await?;
    let pending_actions = match user {
        Some(_) => crate::items::item_counts().await.ok().map(|c| c.pending_actions),
        None => None,
    };
    #[cfg(feature = "ssr")]
    let log_position = crate::auth::session::log_position().map(|position| position.0);
    // Fetched again in the browser, the frame does not restart the stream.
    #[cfg(not(feature = "ssr"))]
    let log_position = None;
    Ok(Frame {
        user,
        pending_actions,
        log_position,
    })
}

pub async fn workspaces() -> Result<Vec<Workspace>, AppError> {
    #[cfg(feature = "hydrate")]
    return client::workspaces().await;
    #[cfg(not(feature = "hydrate"))]
    crate::items::workspaces().await
}

pub async fn overview() -> Result<Overview, AppError> {
    #[cfg(feature = "hydrate")]
    return client::overview().await;
    #[cfg(not(feature = "hydrate"))]
    crate::items::get_overview().await
}

pub async fn list(filter: ItemFilter) -> Result<ItemPage, AppError> {
    #[cfg(feature = "hydrate")]
    return client::list(filter).await;
    #[cfg(not(feature = "hydrate"))]
    crate::items::list_items(filter).await
}

/// Has the browser fetch the lazy files a move to another Action Center view needs (its data
/// is not in the page then), once this page is interactive.
pub fn preload() {
    #[cfg(feature = "hydrate")]
    gloo_timers::callback::Timeout::new(0, || {
        leptos::lazy_preload!(client::list);
        leptos::lazy_preload!(client::overview);
    })
    .forget();
}

#[cfg(feature = "hydrate")]
mod client {
    use super::*;

    #[leptos::lazy]
    pub async fn frame() -> Result<Frame, AppError> {
        load_frame().await
    }

    #[leptos::lazy]
    pub async fn workspaces() -> Result<Vec<Workspace>, AppError> {
        crate::items::workspaces().await
    }

    #[leptos::lazy]
    pub async fn overview() -> Result<Overview, AppError> {
        crate::items::get_overview().await
    }

    #[leptos::lazy]
    pub async fn list(filter: ItemFilter) -> Result<ItemPage, AppError> {
        crate::items::list_items(filter).await
    }
}
