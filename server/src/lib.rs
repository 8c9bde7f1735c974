#![recursion_limit = "256"]

//! The Action Center server: the operator CLI and the HTTP surface, as a library so that
//! integration tests drive the same router the binary serves.

pub mod api;
pub mod cli;
pub mod email;
pub mod live;
pub mod security;
pub mod web;
