//! One module per tick phase. Systems read components and resources, call the plain economics
//! in `crate::econ`, and write results back; they hold no economics of their own.

pub mod demand;
pub mod enterprises;
pub mod labs;
pub mod measure;
pub mod providers;
pub mod settlement;

#[cfg(test)]
mod phase_tests;
