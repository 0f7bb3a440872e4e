//! `#[derive(Metrics)]`: a struct whose fields are metrics becomes `Default` (unregistered
//! metrics) and `prometheus_client::Metrics` (`register` creates and registers each field).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, DeriveInput, Expr, ExprLit, Field, GenericArgument, Lit, LitStr, PathArguments,
    Type, UnOp,
};

use crate::errors::{named_fields, Errors};
use crate::names::NameChecks;

/// What a field holds, by its type's last path segment (the child type for a `Family`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Counter,
    Histogram,
    NativeHistogram,
    Summary,
    Info,
    StateSet,
    Other,
}

/// Literal floats, or an expression evaluated at run time.
enum Values<T> {
    Literal(Vec<T>),
    Expr(Expr),
}

/// Everything `#[metric(...)]` and the doc comment say about a field.
#[derive(Default)]
struct MetricAttrs {
    name: Option<LitStr>,
    help: Option<String>,
    unit: Option<LitStr>,
    buckets: Option<Values<f64>>,
    objectives: Option<Values<(f64, f64)>>,
    states: Option<Vec<LitStr>>,
    info: Option<Vec<(LitStr, Expr)>>,
    labels: Option<Vec<LitStr>>,
    native: Option<Native>,
    flatten: bool,
}

/// `native(bucket_factor = 1.1, max_buckets = 160, zero_threshold = …, max_zero_threshold = …)`.
#[derive(Default)]
struct Native {
    bucket_factor: Option<f64>,
    max_buckets: Option<u32>,
    zero_threshold: Option<f64>,
    max_zero_threshold: Option<f64>,
}

fn kind_of(ty: &Type) -> (Kind, bool) {
    let Type::Path(path) = ty else {
        return (Kind::Other, false);
    };
    let Some(last) = path.path.segments.last() else {
        return (Kind::Other, false);
    };
    if last.ident == "Family" {
        if let PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(GenericArgument::Type(child)) = args.args.iter().nth(1) {
                return (kind_of(child).0, true);
            }
        }
        return (Kind::Other, true);
    }
    let kind = match last.ident.to_string().as_str() {
        "Counter" => Kind::Counter,
        "Histogram" => Kind::Histogram,
        "NativeHistogram" => Kind::NativeHistogram,
        "Summary" => Kind::Summary,
        "Info" => Kind::Info,
        "StateSet" => Kind::StateSet,
        _ => Kind::Other,
    };
    (kind, false)
}

/// HELP from doc comments: each line trimmed, blank lines dropped, joined with spaces.
fn doc_help(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
            {
                let line = s.value().trim().to_owned();
                if !line.is_empty() {
                    lines.push(line);
                }
            }
        }
    }
    lines.join(" ")
}

/// A float literal (`0.5`, `1`, `-1e3`) or `f64::INFINITY`/`NEG_INFINITY`/`NAN`.
fn float_literal(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<i64>().ok().map(|i| i as f64),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => float_literal(&u.expr).map(|v| -v),
        Expr::Path(p) => match p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .as_deref()
        {
            Some("INFINITY") => Some(f64::INFINITY),
            Some("NEG_INFINITY") => Some(f64::NEG_INFINITY),
            Some("NAN") => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

fn parse_metric_attrs(field: &Field, errors: &mut Errors) -> MetricAttrs {
    let mut attrs = MetricAttrs {
        help: Some(doc_help(&field.attrs)).filter(|h| !h.is_empty()),
        ..MetricAttrs::default()
    };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("metric")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            match key.as_str() {
                "flatten" => attrs.flatten = true,
                "name" => attrs.name = Some(meta.value()?.parse()?),
                "help" => attrs.help = Some(meta.value()?.parse::<LitStr>()?.value()),
                "unit" => attrs.unit = Some(meta.value()?.parse()?),
                "buckets" => {
                    let expr: Expr = meta.value()?.parse()?;
                    attrs.buckets = Some(floats(expr, errors));
                }
                "objectives" => {
                    let expr: Expr = meta.value()?.parse()?;
                    attrs.objectives = Some(objectives(expr, errors));
                }
                "states" => attrs.states = Some(strings(meta.value()?.parse()?, "states", errors)),
                "labels" => attrs.labels = Some(strings(meta.value()?.parse()?, "labels", errors)),
                "info" => attrs.info = Some(info_pairs(meta.value()?.parse()?, errors)),
                "native" => {
                    let mut native = Native::default();
                    meta.parse_nested_meta(|inner| {
                        let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                        let expr: Expr = inner.value()?.parse()?;
                        let number = float_literal(&expr);
                        match (key.as_str(), number) {
                            ("bucket_factor", Some(f)) if f > 1.0 => native.bucket_factor = Some(f),
                            ("bucket_factor", _) => errors.at(&expr, "bucket_factor must be a number above 1"),
                            ("max_buckets", Some(n)) if (1.0..=32768.0).contains(&n) && n.fract() == 0.0 => {
                                native.max_buckets = Some(n as u32)
                            }
                            ("max_buckets", _) => errors.at(&expr, "max_buckets must be a whole number from 1 to 32768"),
                            ("zero_threshold", Some(t)) if t >= 0.0 => native.zero_threshold = Some(t),
                            ("max_zero_threshold", Some(t)) if t >= 0.0 => {
                                native.max_zero_threshold = Some(t)
                            }
                            ("zero_threshold" | "max_zero_threshold", _) => {
                                errors.at(&expr, format!("{key} must be a number of 0 or more"))
                            }
                            _ => {
                                return Err(inner.error(
                                    "unknown native attribute; expected bucket_factor, max_buckets, zero_threshold or max_zero_threshold",
                                ))
                            }
                        }
                        Ok(())
                    })?;
                    attrs.native = Some(native);
                }
                _ => {
                    return Err(meta.error(
                        "unknown metric attribute; expected name, help, unit, buckets, native, objectives, states, info, labels or flatten",
                    ))
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    attrs
}

fn floats(expr: Expr, errors: &mut Errors) -> Values<f64> {
    let Expr::Array(array) = &expr else {
        return Values::Expr(expr);
    };
    let mut values = Vec::new();
    for elem in &array.elems {
        match float_literal(elem) {
            Some(v) if v.is_nan() => errors.at(elem, "a bucket bound cannot be NaN"),
            Some(v) => {
                if let Some(&previous) = values.last() {
                    if v <= previous {
                        errors.at(
                            elem,
                            format!("bucket bounds must increase: {v} is not above {previous}"),
                        );
                    }
                }
                if v == f64::INFINITY && !std::ptr::eq(elem, array.elems.last().unwrap_or(elem)) {
                    errors.at(
                        elem,
                        "+Inf can only be the last bucket bound (it is implicit anyway)",
                    );
                }
                values.push(v);
            }
            None => errors.at(
                elem,
                "literal buckets must be numbers; use `buckets = expr` for a `Buckets` value",
            ),
        }
    }
    Values::Literal(values)
}

fn objectives(expr: Expr, errors: &mut Errors) -> Values<(f64, f64)> {
    let Expr::Array(array) = &expr else {
        return Values::Expr(expr);
    };
    let mut values: Vec<(f64, f64)> = Vec::new();
    for elem in &array.elems {
        let pair = match elem {
            Expr::Tuple(t) if t.elems.len() == 2 => {
                float_literal(&t.elems[0]).zip(float_literal(&t.elems[1]))
            }
            _ => None,
        };
        match pair {
            Some((q, _)) if !(0.0..=1.0).contains(&q) => {
                errors.at(elem, format!("quantile {q} is not between 0 and 1"))
            }
            Some((_, e)) if !(e > 0.0 && e < 1.0) => errors.at(
                elem,
                format!("allowed error {e} is not above 0 and below 1"),
            ),
            Some((q, _)) if values.iter().any(|(p, _)| *p == q) => {
                errors.at(elem, format!("quantile {q} is given twice"))
            }
            Some(pair) => values.push(pair),
            None => errors.at(
                elem,
                "objectives are (quantile, allowed error) pairs of numbers, such as (0.99, 0.001)",
            ),
        }
    }
    Values::Literal(values)
}

fn strings(expr: Expr, what: &str, errors: &mut Errors) -> Vec<LitStr> {
    let Expr::Array(array) = &expr else {
        errors.at(&expr, format!("{what} must be a list of string literals"));
        return Vec::new();
    };
    let mut out: Vec<LitStr> = Vec::new();
    for elem in &array.elems {
        match elem {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                if out.iter().any(|o| o.value() == s.value()) {
                    errors.at(s, format!("{:?} is given twice", s.value()));
                }
                out.push(s.clone());
            }
            other => errors.at(other, format!("{what} must be string literals")),
        }
    }
    out
}

fn info_pairs(expr: Expr, errors: &mut Errors) -> Vec<(LitStr, Expr)> {
    let Expr::Array(array) = &expr else {
        errors.at(&expr, "info must be a list of (\"label\", value) pairs");
        return Vec::new();
    };
    let mut out = Vec::new();
    for elem in &array.elems {
        match elem {
            Expr::Tuple(t) if t.elems.len() == 2 => match &t.elems[0] {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(name),
                    ..
                }) => out.push((name.clone(), t.elems[1].clone())),
                other => errors.at(other, "an info label name must be a string literal"),
            },
            other => errors.at(other, "info must be a list of (\"label\", value) pairs"),
        }
    }
    out
}

/// One field, checked and ready for code generation.
struct Planned<'a> {
    field: &'a Field,
    attrs: MetricAttrs,
    kind: Kind,
    family: bool,
    name: String,
}

/// The expression that builds the field's metric, unregistered.
fn constructor(p: &Planned<'_>) -> TokenStream {
    let span = p.field.ty.span();
    let child = match p.kind {
        Kind::Histogram => match &p.attrs.buckets {
            Some(Values::Literal(bounds)) => quote_spanned! {span=>
                ::prometheus_client::Histogram::new(
                    ::prometheus_client::Buckets::new(&[#(#bounds),*])
                        .unwrap_or_else(|_| ::core::unreachable!("buckets are checked at compile time")),
                )
            },
            Some(Values::Expr(expr)) => {
                quote_spanned! {span=> ::prometheus_client::Histogram::new(#expr) }
            }
            None => quote!(::prometheus_client::Histogram::default()),
        },
        Kind::NativeHistogram => {
            let native = p.attrs.native.as_ref();
            let factor = native.and_then(|n| n.bucket_factor).unwrap_or(1.1);
            let mut calls = Vec::new();
            if let Some(t) = native.and_then(|n| n.zero_threshold) {
                calls.push(quote!(.and_then(|c| c.zero_threshold(#t))));
            }
            if let Some(t) = native.and_then(|n| n.max_zero_threshold) {
                calls.push(quote!(.and_then(|c| c.max_zero_threshold(#t))));
            }
            if let Some(n) = native.and_then(|n| n.max_buckets) {
                calls.push(quote!(.and_then(|c| c.try_max_buckets(#n))));
            }
            let config = quote! {
                ::prometheus_client::NativeConfig::new(#factor) #(#calls)*
                    .unwrap_or_else(|_| ::core::unreachable!("native settings are checked at compile time"))
            };
            match &p.attrs.buckets {
                Some(Values::Literal(bounds)) => quote_spanned! {span=>
                    ::prometheus_client::NativeHistogram::with_classic(
                        #config,
                        ::prometheus_client::Buckets::new(&[#(#bounds),*])
                            .unwrap_or_else(|_| ::core::unreachable!("buckets are checked at compile time")),
                    )
                },
                Some(Values::Expr(expr)) => quote_spanned! {span=>
                    ::prometheus_client::NativeHistogram::with_classic(#config, #expr)
                },
                None => quote! { ::prometheus_client::NativeHistogram::new(#config) },
            }
        }
        Kind::Summary => match &p.attrs.objectives {
            Some(Values::Literal(pairs)) => {
                let calls = pairs.iter().map(|(q, e)| quote!(.objective(#q, #e)));
                quote! {
                    ::prometheus_client::Summary::builder() #(#calls)* .build()
                        .unwrap_or_else(|_| ::core::unreachable!("objectives are checked at compile time"))
                }
            }
            Some(Values::Expr(expr)) => quote_spanned! {span=> #expr },
            None => quote!(::prometheus_client::Summary::default()),
        },
        Kind::StateSet => {
            let states = p.attrs.states.iter().flatten();
            quote! {
                ::prometheus_client::StateSet::new([#(#states),*])
                    .unwrap_or_else(|_| ::core::unreachable!("states are checked at compile time"))
            }
        }
        Kind::Info => {
            let pairs =
                p.attrs.info.iter().flatten().map(
                    |(name, value)| quote!((#name, ::std::string::ToString::to_string(&#value))),
                );
            quote! {
                ::prometheus_client::Info::new(&[#(#pairs),*])
                    .unwrap_or_else(|_| ::core::unreachable!("info label names are checked at compile time"))
            }
        }
        Kind::Counter | Kind::Other => quote!(::core::default::Default::default()),
    };
    if !p.family {
        return child;
    }
    let names: Vec<&LitStr> = p.attrs.labels.iter().flatten().collect();
    let count = names.len();
    let names = quote!([#(#names),*] as [&'static str; #count]);
    let needs_constructor = matches!(
        p.kind,
        Kind::Histogram | Kind::NativeHistogram | Kind::Summary | Kind::StateSet | Kind::Info
    ) && (p.attrs.buckets.is_some()
        || p.attrs.objectives.is_some()
        || matches!(p.kind, Kind::StateSet | Kind::Info | Kind::NativeHistogram));
    if needs_constructor {
        quote! { ::prometheus_client::Family::new_with_constructor(#names, move || #child) }
    } else {
        quote! { ::prometheus_client::Family::new_with_constructor(#names, ::core::default::Default::default) }
    }
}

fn plan<'a>(field: &'a Field, errors: &mut Errors, checks: &mut NameChecks) -> Planned<'a> {
    let attrs = parse_metric_attrs(field, errors);
    let (kind, family) = kind_of(&field.ty);
    let ident = field
        .ident
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let name = attrs.name.as_ref().map_or(ident, LitStr::value);
    let planned = Planned {
        field,
        attrs,
        kind,
        family,
        name,
    };
    check(&planned, errors, checks);
    planned
}

fn check(p: &Planned<'_>, errors: &mut Errors, checks: &mut NameChecks) {
    let a = &p.attrs;
    let at = match &a.name {
        Some(lit) => lit.span(),
        None => p.field.ident.span(),
    };
    if a.flatten {
        if a.name.is_some() || a.unit.is_some() || a.buckets.is_some() || a.labels.is_some() {
            errors.at(
                &p.field.ident,
                "a flattened field takes no other metric attributes",
            );
        }
        return;
    }
    checks.metric_name(&p.name, at);
    if let Some(unit) = &a.unit {
        checks.unit(unit);
        if matches!(p.kind, Kind::Info | Kind::StateSet) {
            errors.at(unit, "info and stateset metrics have no unit");
        }
    }
    let misplaced = |present: bool, what: &str, kind: Kind, errors: &mut Errors| {
        if present && p.kind != kind {
            errors.at(
                &p.field.ident,
                format!("{what} only apply to {kind:?} fields (or families of them)"),
            );
        }
    };
    if a.buckets.is_some() && !matches!(p.kind, Kind::Histogram | Kind::NativeHistogram) {
        errors.at(
            &p.field.ident,
            "buckets only apply to Histogram and NativeHistogram fields (or families of them)",
        );
    }
    misplaced(
        a.native.is_some(),
        "native settings",
        Kind::NativeHistogram,
        errors,
    );
    misplaced(a.objectives.is_some(), "objectives", Kind::Summary, errors);
    misplaced(a.states.is_some(), "states", Kind::StateSet, errors);
    misplaced(a.info.is_some(), "info labels", Kind::Info, errors);
    if p.kind == Kind::StateSet
        && a.states
            .as_ref()
            .is_none_or(|s| s.is_empty() || s.len() > 64)
    {
        errors.at(
            &p.field.ident,
            "a StateSet field needs #[metric(states = [\"...\", ...])] with 1 to 64 states",
        );
    }
    if p.kind == Kind::Info && a.info.is_none() {
        errors.at(
            &p.field.ident,
            "an Info field needs #[metric(info = [(\"label\", value), ...])]",
        );
    }
    if let Some(labels) = &a.labels {
        if !p.family {
            errors.at(&p.field.ident, "labels only apply to Family fields");
        }
        for label in labels {
            checks.label_name(&label.value(), label.span());
        }
    }
    for (label, _) in a.info.iter().flatten() {
        checks.label_name(&label.value(), label.span());
    }
}

/// The family name registration will produce, for finding duplicates: counter `_total` and
/// info `_info` suffixes dropped, the unit suffix added.
fn registered_name(p: &Planned<'_>) -> String {
    let suffix = match p.kind {
        Kind::Counter => "_total",
        Kind::Info => "_info",
        _ => "",
    };
    let mut name = p
        .name
        .strip_suffix(suffix)
        .filter(|_| !suffix.is_empty())
        .unwrap_or(&p.name)
        .to_owned();
    if let Some(unit) = &p.attrs.unit {
        let unit = unit.value();
        if !name.ends_with(&format!("_{unit}")) {
            name = format!("{name}_{unit}");
        }
    }
    name
}

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let fields = named_fields(input);
    let dummy = quote! {
        impl ::core::default::Default for #ident {
            fn default() -> Self { ::core::unreachable!() }
        }
        impl ::prometheus_client::Metrics for #ident {
            fn register(_: &::prometheus_client::Registry) -> ::core::result::Result<Self, ::prometheus_client::RegisterError> {
                ::core::unreachable!()
            }
        }
    };
    let Some(fields) = fields else {
        errors.at(
            ident,
            "Metrics can only be derived for structs with named fields",
        );
        let compile_errors = errors.into_compile_errors().unwrap_or_default();
        return quote!(#compile_errors);
    };
    if !input.generics.params.is_empty() {
        errors.at(
            &input.generics,
            "Metrics cannot be derived for generic structs",
        );
    }
    let mut prefix: Option<LitStr> = None;
    let mut checks = NameChecks::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("metrics")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("prefix") {
                let lit: LitStr = meta.value()?.parse()?;
                checks.metric_name(&lit.value(), lit.span());
                prefix = Some(lit);
                Ok(())
            } else {
                Err(meta.error("unknown metrics attribute; expected prefix"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    let planned: Vec<Planned<'_>> = fields
        .iter()
        .map(|f| plan(f, &mut errors, &mut checks))
        .collect();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for p in planned.iter().filter(|p| !p.attrs.flatten) {
        let name = registered_name(p);
        if seen.iter().any(|(n, _)| *n == name) {
            errors.at(
                &p.field.ident,
                format!("metric name {name:?} is used twice in this struct"),
            );
        }
        seen.push((name, p.field.span()));
    }
    if let Some(compile_errors) = errors.into_compile_errors() {
        // A stand-in impl, so code using the struct reports no further errors (a generic
        // struct gets none: the stand-in would need its generics, and is refused anyway).
        let dummy = input.generics.params.is_empty().then_some(dummy);
        return quote!(#compile_errors #dummy #checks);
    }
    let defaults = planned.iter().map(|p| {
        let f = &p.field.ident;
        let value = if p.attrs.flatten {
            quote!(::core::default::Default::default())
        } else {
            constructor(p)
        };
        quote!(#f: #value)
    });
    let registrations = planned.iter().map(|p| {
        let f = &p.field.ident;
        let ty = &p.field.ty;
        if p.attrs.flatten {
            return quote!(#f: <#ty as ::prometheus_client::Metrics>::register(&registry)?);
        }
        let name = &p.name;
        let help = p.attrs.help.clone().unwrap_or_default();
        let value = constructor(p);
        match &p.attrs.unit {
            Some(unit) => quote!(#f: registry.register_with_unit(#name, #help, #unit, #value)?),
            None => quote!(#f: registry.register(#name, #help, #value)?),
        }
    });
    let registry = match &prefix {
        Some(prefix) => quote!(let registry = registry.sub_registry_with_prefix(#prefix)?;),
        None => quote!(let registry = ::core::clone::Clone::clone(registry);),
    };
    quote! {
        impl ::core::default::Default for #ident {
            fn default() -> Self {
                Self { #(#defaults,)* }
            }
        }
        impl ::prometheus_client::Metrics for #ident {
            fn register(registry: &::prometheus_client::Registry) -> ::core::result::Result<Self, ::prometheus_client::RegisterError> {
                #registry
                ::core::result::Result::Ok(Self { #(#registrations,)* })
            }
        }
        #checks
    }
}
