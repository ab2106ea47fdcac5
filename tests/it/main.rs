//! The one integration-test binary (each file directly under `tests/` would link the AWS SDKs again).

mod config;
mod emulator;
mod planner;
mod support;
