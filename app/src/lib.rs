//! Action Center: components, pages and server functions shared by the server (`ssr`)
//! and the browser (`hydrate`); storage and domain rules are compiled for the server only.

#![recursion_limit = "256"]

pub mod i18n;

/// Declares a name or id that crosses modules as its own type, so a user id cannot be passed
/// where an org id is expected. It is a `String` on the wire (serde) and in storage (sqlx), and
/// reads as a `&str` (`Deref`, `AsRef`, `Borrow`, so sets of them can be searched with a `&str`).
macro_rules! string_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_string())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q> From<$name> for crate::db::Value<'q> {
            fn from(value: $name) -> Self {
                value.0.into()
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q> From<&'q $name> for crate::db::Value<'q> {
            fn from(value: &'q $name) -> Self {
                value.as_str().into()
            }
        }

        impl leptos::attr::IntoAttributeValue for $name {
            type Output = String;
            fn into_attribute_value(self) -> String {
                self.0
            }
        }

        impl leptos::prelude::IntoRender for $name {
            type Output = String;
            fn into_render(self) -> String {
                self.0
            }
        }
    };
}

pub mod admin;
pub mod auth;
pub mod error;
pub mod items;
pub mod live;
pub mod orgs;
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
pub mod state;

pub use ui::{App, shell};
