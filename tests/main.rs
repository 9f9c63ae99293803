//! Integration tests, one crate split into topic modules (one test binary keeps linking cheap).

mod common;

mod backtest;
mod calibrate;
mod cli;
mod config_errors;
mod contracts;
mod determinism;
mod events;
mod facts;
mod history;
mod invariants;
mod layering;
mod monotone;
mod ownership;
mod plot;
mod pricing;
mod proptest_config;
mod reliability;
mod scenarios;
mod sensitivity;
mod shard;
mod slurm;
mod sweep;
mod theory;
mod workflow;
