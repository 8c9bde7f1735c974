//! Action Center: components, pages and server functions shared by the server (`ssr`)
//! and the browser (`hydrate`); storage and domain rules are compiled for the server only.

#![recursion_limit = "256"]

pub mod auth;
pub mod error;
pub mod items;
pub mod live;
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
pub mod orgs;
#[cfg(feature = "ssr")]
pub mod state;

pub use ui::{App, shell};
