//! `#[derive(LabelSet)]`: a struct whose fields are the labels of a family's children. Each
//! field must be a label value (strings, `&'static str`, integers, bools, `LabelValue` enums,
//! `Option`s of them).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr};

use crate::errors::{named_fields, Errors};
use crate::names::NameChecks;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let fields = named_fields(input);
    let Some(fields) = fields else {
        errors.at(
            ident,
            "LabelSet can only be derived for structs with named fields",
        );
        return errors.into_compile_errors().unwrap_or_default();
    };
    if !input.generics.params.is_empty() {
        errors.at(
            &input.generics,
            "LabelSet cannot be derived for generic structs",
        );
    }
    let mut labels = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut checks = NameChecks::default();
    for field in fields {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let mut name = field_ident.to_string();
        let mut name_span = field_ident.span();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("label")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let lit: LitStr = meta.value()?.parse()?;
                    name = lit.value();
                    name_span = lit.span();
                    Ok(())
                } else {
                    Err(meta.error("unknown label attribute; expected rename"))
                }
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        checks.label_name(&name, name_span);
        if seen.contains(&name) {
            errors.push(syn::Error::new(
                name_span,
                format!("label {name:?} appears twice"),
            ));
        }
        seen.push(name.clone());
        labels.push((field_ident, name));
    }
    if let Some(compile_errors) = errors.into_compile_errors() {
        return quote!(#compile_errors #checks);
    }
    let encode = labels
        .iter()
        .map(|(f, name)| quote!(encoder.named(#name, &self.#f);));
    quote! {
        impl ::prometheus_client::LabelSet for #ident {
            type Owned = Self;
            const SHAPE: ::prometheus_client::labels::LabelShape = ::prometheus_client::labels::LabelShape::Named;
            // Inlined into each lookup, which fixes what the encoder does with each label.
            #[inline(always)]
            fn encode(&self, encoder: &mut ::prometheus_client::labels::LabelSetEncoder<'_>) {
                #(#encode)*
            }
        }
        #checks
    }
}
