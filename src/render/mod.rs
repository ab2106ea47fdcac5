//! Text, Markdown and JSON views of plans, drift and reports. Owns every output type.
//!
//! Every renderer is a pure function from data to a `String`: no I/O, no clock, no env, and
//! the same input always gives the same bytes. Deciding where the output goes (stdout, a
//! file) and whether colour is wanted is the CLI's job.
//!
//! - [`text`]: what a person reads in a terminal (terraform-like, colour optional).
//! - [`markdown`]: what CI posts as a pull-request comment (bounded in size).
//! - [`json`]: the saved-plan / `--format json` document of the contract, and its parser.

pub mod access;
pub mod apply;
mod apply_policies;
pub(crate) mod common;
pub mod drift;
pub mod escape;
#[cfg(test)]
mod fixtures;
pub mod guardrails;
pub mod html;
pub mod json;
pub mod licenses;
pub mod markdown;
pub mod subscriptions;
pub mod text;
