//! Action Center: components, pages and server functions shared by the server (`ssr`)
//! and the browser (`hydrate`); storage and domain rules are compiled for the server only.

#![recursion_limit = "256"]

// The i18n module from locales/*.json. (leptos_i18n now prefers build-script code generation,
// which pulls in ICU's data generator; the macro gives the same module without it.)
#[allow(deprecated)]
mod i18n_module {
    leptos_i18n::load_locales!();
}
pub use i18n_module::i18n;

pub mod admin;
pub mod auth;
pub mod error;
pub mod items;
pub mod live;
pub mod preferences;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod api_keys;
#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod email;
#[cfg(feature = "ssr")]
pub mod forms;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod orgs;
#[cfg(feature = "ssr")]
pub mod state;

pub use ui::{App, shell};
