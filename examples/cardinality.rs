//! A family bounded to a few children under a stream of distinct label values: what is
//! kept, what is folded into the overflow child, what is refused and counted.
//!
//! ```text
//! cargo run --example cardinality
//! ```

use std::process::ExitCode;

use prometheus_client::encoding::Format;
use prometheus_client::{Counter, Family, Overflow, Registry};

fn main() -> ExitCode {
    let registry = Registry::new();
    let registered = registry
        .register(
            "logins",
            "Logins by user, the first three users only; the rest are refused.",
            Family::<[String; 1], Counter>::new(["user"]).with_max_children(3, Overflow::Refuse),
        )
        .and_then(|logins| {
            let by_tenant = registry.register(
                "requests",
                "Requests by tenant, the first two tenants; the rest folded into \"other\".",
                Family::<[String; 1], Counter>::new(["tenant"])
                    .with_max_children(2, Overflow::FoldInto("other".into())),
            )?;
            Ok((logins, by_tenant))
        });
    let (logins, by_tenant) = match registered {
        Ok(families) => families,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for i in 0..1000 {
        logins.with(&[format!("user-{}", i % 10)], Counter::inc);
        by_tenant.with(&[format!("tenant-{}", i % 7)], Counter::inc);
    }
    match registry.encode_to_string(Format::Text) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
