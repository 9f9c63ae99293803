//! Integration tests: invariants.
