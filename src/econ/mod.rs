//! The economics of the model as plain functions: no bevy types, each with unit tests.
//!
//! ECS systems in `crate::sim` only move data between components and these functions.

pub mod allocation;
pub mod capacity;
pub mod choice;
pub mod concentration;
pub mod population;
pub mod pricing;
pub mod quality;
pub mod switching;
