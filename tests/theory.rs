//! Integration tests: theory.
