//! No web configuration file panics its reader, nor the pull server's TOML reader: any text
//! is a configuration or an error naming what is wrong.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_client::http::WebConfig;
use prometheus_client::pull::Config;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = WebConfig::from_yaml(text, "/nonexistent");
        let _ = Config::from_toml(text);
    }
});
