//! The Action Center server: the operator CLI and the HTTP surface, as a library so that
//! integration tests drive the same router the binary serves.

pub mod cli;
pub mod web;
