//! The economics of the model as plain functions: no bevy types, each with unit tests.
//!
//! ECS systems in `crate::sim` only move data between components and these functions.

pub mod allocation;
pub mod bertrand;
pub mod capacity;
pub mod choice;
pub mod cloud_prices;
pub mod compute_market;
pub mod concentration;
pub mod contracts;
pub mod finance;
pub mod marketplace_margins;
pub mod merger;
pub mod model_fees;
pub mod offering;
pub mod policy;
pub mod population;
pub mod portfolio;
pub mod pricing;
pub mod quality;
pub mod settlement;
pub mod slots;
pub mod surplus;
pub mod switching;
pub mod welfare;
