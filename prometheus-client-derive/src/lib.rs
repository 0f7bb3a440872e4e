//! Derive macros for `prometheus-client`, re-exported from it (feature `derive`, on by
//! default): `#[derive(Metrics)]` turns a struct of metrics into registered metrics,
//! `#[derive(LabelSet)]` a struct into typed labels, `#[derive(LabelValue)]` a fieldless enum
//! into a label value. Names, units, buckets and label names given as literals are checked at
//! compile time, and mistakes are reported on the field or attribute at fault. See the
//! `prometheus_client` crate documentation for the whole feature in one example.

mod errors;
mod label_set;
mod label_value;
mod metrics;
mod names;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `prometheus_client::Metrics` (and `Default`) for a struct whose fields are metrics.
#[proc_macro_derive(Metrics, attributes(metrics, metric))]
pub fn derive_metrics(input: TokenStream) -> TokenStream {
    metrics::expand(&parse_macro_input!(input as DeriveInput)).into()
}

/// Derives `prometheus_client::LabelSet` for a struct whose fields are label values.
#[proc_macro_derive(LabelSet, attributes(label))]
pub fn derive_label_set(input: TokenStream) -> TokenStream {
    label_set::expand(&parse_macro_input!(input as DeriveInput)).into()
}

/// Derives `prometheus_client::LabelValue` for a fieldless enum.
#[proc_macro_derive(LabelValue, attributes(label_value))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label_value::expand(&parse_macro_input!(input as DeriveInput)).into()
}
