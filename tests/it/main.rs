//! The one integration-test binary (each file directly under `tests/` would link the AWS SDKs again).

mod cli_support;
mod config;
mod emulator;
mod gitops;
mod planner;
mod support;
