//! Integration tests: monotone.
