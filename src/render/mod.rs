//! Text, Markdown, CSV, HTML and JSON views of plans, drift and reports. Owns every output type
//! (the saved plan's wire types are `plan::saved`'s, next to their reader).
//!
//! One module per noun, every format of that noun inside it: [`plan`], [`drift`], [`access`],
//! [`licenses`], [`apply`], [`guardrails`]. Untrusted strings go through [`escape`] (Markdown,
//! CSV) or [`common::clean`] (text).
//!
//! Every renderer is a pure function from data to a `String` (or to a writer, for the large
//! access outputs): no I/O of its own, no clock, no env, and the same input always gives the
//! same bytes. Deciding where the output goes (stdout, a file) and whether colour is wanted is
//! the CLI's job.

pub mod access;
pub mod apply;
pub(crate) mod common;
pub mod drift;
pub mod escape;
#[cfg(test)]
mod every_format;
#[cfg(test)]
mod fixtures;
pub mod guardrails;

pub mod licenses;
pub mod plan;
pub mod schema;

/// The plan's views under the names the CLI has always used.
pub use access::html;
pub use plan::{json, markdown, text};
pub mod subscriptions;
