//! Checks an exposition, like `promtool check metrics` but for both formats and with
//! positions.
//!
//! ```text
//! cargo run --example check -- [--format text|openmetrics|protobuf] [FILE]
//! ```
//!
//! Reads FILE (or standard input), prints each problem as `line:column: message` (for
//! protobuf: `message:byte offset: message`, the first problem only), and exits with 0 when
//! the input is valid, 1 when it is not, 2 when it cannot be read.

use std::io::{Read, Write};
use std::process::ExitCode;

use prometheus_client::encoding::Format;
use prometheus_client::parse::{validate, Parser};

fn usage() -> ExitCode {
    eprintln!("usage: check [--format text|openmetrics|protobuf] [FILE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut format = Format::Text;
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => match args.next().as_deref() {
                Some("text") => format = Format::Text,
                Some("openmetrics") => format = Format::OpenMetrics,
                Some("protobuf") => format = Format::Protobuf,
                _ => return usage(),
            },
            _ if file.is_none() && !arg.starts_with("--") => file = Some(arg),
            _ => return usage(),
        }
    }
    let mut input = Vec::new();
    let read = match &file {
        Some(path) => std::fs::read(path).map(|bytes| input = bytes),
        None => std::io::stdin().read_to_end(&mut input).map(drop),
    };
    if let Err(e) = read {
        eprintln!("{}: {e}", file.as_deref().unwrap_or("stdin"));
        return ExitCode::from(2);
    }
    let mut out = std::io::stdout().lock();
    if format == Format::Protobuf {
        // Messages cannot be resynchronised after a bad one: the first problem is the last.
        return match validate(&input, format) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(out, "{e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut parser = Parser::new(&input, format);
    let mut problems = 0;
    while let Some(entry) = parser.next() {
        if let Err(e) = entry {
            problems += 1;
            // A reader that went away (`| head`) ends the listing, not the verdict.
            let _ = writeln!(out, "{e}");
            parser.recover();
        }
    }
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
