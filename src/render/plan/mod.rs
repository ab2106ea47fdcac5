//! The plan in every format: [`text`] for a terminal (terraform-like, colour optional),
//! [`markdown`] for the pull-request comment (bounded in size), [`json`] for the saved plan and
//! `--format json` (the contract's document, read back by `plan::saved`).

pub(crate) mod common;
pub mod json;
pub mod markdown;
pub mod text;
