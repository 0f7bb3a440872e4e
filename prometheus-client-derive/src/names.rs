//! The naming rules, asked of `prometheus_client::desc` where the derived code compiles: each
//! name becomes a constant check (`const _: () = desc::assert_metric_name("...")`), spanned on
//! the name, so a bad name fails the build there and the rules live in one place.

use proc_macro2::{Span, TokenStream};
use quote::{quote_spanned, ToTokens};
use syn::LitStr;

/// The constant checks gathered for one derive.
#[derive(Default)]
pub(crate) struct NameChecks(Vec<TokenStream>);

impl NameChecks {
    /// Checks a metric name (or a name prefix) against the metric name rules.
    pub(crate) fn metric_name(&mut self, name: &str, at: Span) {
        self.push("assert_metric_name", name, at);
    }

    /// Checks a label name against the rules for a label usable on a family of any type.
    pub(crate) fn label_name(&mut self, name: &str, at: Span) {
        self.push("assert_label_name", name, at);
    }

    /// Checks a unit.
    pub(crate) fn unit(&mut self, unit: &LitStr) {
        self.push("assert_unit", &unit.value(), unit.span());
    }

    fn push(&mut self, check: &str, name: &str, at: Span) {
        let check = syn::Ident::new(check, at);
        let name = LitStr::new(name, at);
        self.0.push(quote_spanned! {at=>
            const _: () = ::prometheus_client::desc::#check(#name);
        });
    }
}

impl ToTokens for NameChecks {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.0.iter().cloned());
    }
}
