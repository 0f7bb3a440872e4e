//! Derive macros for `prometheus-client`.
//!
//! This crate is a placeholder: the `Metrics`, `LabelSet` and `LabelValue` derives are
//! being built in their own issue. It exports nothing yet.
