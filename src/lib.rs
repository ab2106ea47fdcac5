//! `bedrock-entitlements`: a declarative reconciler for Amazon Bedrock model entitlements
//! distributed with AWS License Manager grants. See `docs/ARCHITECTURE.md` for the map.

pub mod apply;
pub mod audit;
pub mod aws;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod emulator;
pub mod guardrails;
pub mod live;
pub mod model;
pub mod org;
pub mod plan;
pub mod preflight;
pub mod render;
