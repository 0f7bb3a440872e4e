//! `#[derive(LabelValue)]`: a fieldless enum whose variants are label values.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::errors::Errors;

/// How variant names become values.
#[derive(Clone, Copy)]
enum Case {
    AsIs,
    Lower,
    Upper,
    Snake,
    ScreamingSnake,
    Kebab,
}

fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for (i, c) in name.char_indices() {
        let boundary = c.is_uppercase() && i > 0;
        match words.last_mut() {
            Some(word) if !boundary => word.push(c),
            _ => words.push(c.to_string()),
        }
    }
    words
}

fn convert(name: &str, case: Case) -> String {
    let lower: Vec<String> = words(name).iter().map(|w| w.to_lowercase()).collect();
    match case {
        Case::AsIs => name.to_owned(),
        Case::Lower => name.to_lowercase(),
        Case::Upper => name.to_uppercase(),
        Case::Snake => lower.join("_"),
        Case::ScreamingSnake => lower.join("_").to_uppercase(),
        Case::Kebab => lower.join("-"),
    }
}

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let Data::Enum(data) = &input.data else {
        errors.at(
            ident,
            "LabelValue can only be derived for enums without fields",
        );
        return errors.into_compile_errors().unwrap_or_default();
    };
    if !input.generics.params.is_empty() {
        errors.at(
            &input.generics,
            "LabelValue cannot be derived for generic enums",
        );
    }
    if data.variants.is_empty() {
        errors.at(ident, "LabelValue needs at least one variant");
    }
    let mut case = Case::AsIs;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("label_value"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let value: LitStr = meta.value()?.parse()?;
                case = match value.value().as_str() {
                    "lowercase" => Case::Lower,
                    "UPPERCASE" => Case::Upper,
                    "snake_case" => Case::Snake,
                    "SCREAMING_SNAKE_CASE" => Case::ScreamingSnake,
                    "kebab-case" => Case::Kebab,
                    "PascalCase" => Case::AsIs,
                    _ => {
                        return Err(meta.error(
                            "rename_all must be one of \"lowercase\", \"UPPERCASE\", \"snake_case\", \"SCREAMING_SNAKE_CASE\", \"kebab-case\", \"PascalCase\"",
                        ))
                    }
                };
                Ok(())
            } else {
                Err(meta.error("unknown label_value attribute; expected rename_all"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    let mut values = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.at(variant, "LabelValue variants cannot have fields");
        }
        let mut value = convert(&variant.ident.to_string(), case);
        for attr in variant
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("label_value"))
        {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    value = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("unknown label_value attribute on a variant; expected rename"))
                }
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        values.push((&variant.ident, value));
    }
    if let Some(compile_errors) = errors.into_compile_errors() {
        return compile_errors;
    }
    let arms_text = values.iter().map(|(v, text)| quote!(Self::#v => #text));
    quote! {
        impl ::prometheus_client::LabelValue for #ident {
            type Owned = Self;
            fn with_text<__R>(&self, f: impl ::core::ops::FnOnce(&str) -> __R) -> __R {
                let text: &'static str = match self { #(#arms_text,)* };
                f(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_convert_like_serde() {
        assert_eq!(convert("NotFound", Case::Snake), "not_found");
        assert_eq!(convert("NotFound", Case::ScreamingSnake), "NOT_FOUND");
        assert_eq!(convert("NotFound", Case::Kebab), "not-found");
        assert_eq!(convert("NotFound", Case::Lower), "notfound");
        assert_eq!(convert("Get", Case::Upper), "GET");
    }
}
