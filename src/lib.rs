//! aimarket — an agent-based model of the AI infrastructure market.
//!
//! Cloud providers (capacity, prices, marketplaces, suites), AI labs (quality from training
//! compute, hosting allocation, contracts with providers) and many enterprises (AI option and
//! cloud home, chosen by logit with switching costs) interact month by month. Each tick runs six
//! ordered phases — events, labs, providers, enterprises, settlement, measurement — and reports
//! shares and concentration (HHI, CR1, CR3) in four markets: cloud, AI channel, model, compute.
//!
//! Layout: `config` (typed parameters, overrides, validation, and in `config::events` the
//! catalogue of dated and triggered changes), `econ` (the economics as plain functions), `sim`
//! (the bevy_ecs world, with the queue that fires events), `output` (files that appear complete
//! or not at all), `sweep` (batch runs) and `cli`.

pub mod batch;
pub mod calibrate;
pub mod cli;
pub mod commands;
pub mod config;
pub mod econ;
pub mod output;
pub mod sim;
pub mod stats;
pub mod sweep;
