//! The one integration-test binary (each file directly under `tests/` would link the AWS SDKs again).

mod apply;
mod ci;
mod cli;
mod cli_support;
mod config;
mod continuity;
mod emulator;
mod emulator_bedrock;
mod emulator_faults;
mod emulator_lm;
mod emulator_orgs;
mod emulator_policies;
mod emulator_shapes;
mod emulator_time;
mod gitops;
mod guardrails_apply;
mod guardrails_plan;
mod iam;
mod plan_live;
mod planner;
mod readme;
mod scale;
mod shape;
mod shapes;
mod support;
mod workflows;
