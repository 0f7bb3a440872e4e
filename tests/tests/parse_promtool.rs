//! Our text 0.0.4 parser agrees with promtool's (client_golang's) on which inputs are valid,
//! and on the line of the first error, over many mutations of a real exposition.
//!
//! One difference is deliberate: trailing whitespace after a sample, which the Prometheus
//! server accepts and promtool does not; inputs with it are left out.

use prometheus_client::encoding::Format;
use prometheus_client::parse::validate;
use tests::edge_cases::edge_cases;
use tests::external::{promtool_check, tool, PROMTOOL};

/// promtool's verdict: `None` when valid, else the line of its first error.
fn promtool_error_line(body: &[u8]) -> Option<usize> {
    let (_, printed) = promtool_check(body);
    let at = printed.find("parsing error in line ")?;
    let digits: String = printed[at + 22..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(digits.parse().unwrap_or(0))
}

struct Mutations {
    seed: u64,
}

impl Mutations {
    fn next_below(&mut self, n: usize) -> usize {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed % n as u64) as usize
    }

    /// One mutation of `base`: bytes that parsers get wrong, put where they hurt.
    fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        const INTERESTING: &[u8] = b" \t{}=\",#\\n0.e+-_xZ\n";
        let mut out = base.to_vec();
        let at = self.next_below(out.len());
        match self.next_below(5) {
            0 => {
                out.remove(at);
            }
            1 => out.insert(at, INTERESTING[self.next_below(INTERESTING.len())]),
            2 => out[at] = INTERESTING[self.next_below(INTERESTING.len())],
            3 => {
                let lines: Vec<&[u8]> = base.split_inclusive(|&b| b == b'\n').collect();
                let line = lines[self.next_below(lines.len())];
                let mut pos = 0;
                for l in &lines[..self.next_below(lines.len())] {
                    pos += l.len();
                }
                out.splice(pos..pos, line.iter().copied());
            }
            _ => {
                let end = (at + 1 + self.next_below(8)).min(out.len());
                out.drain(at..end);
            }
        }
        out
    }
}

fn has_trailing_blank(body: &[u8]) -> bool {
    body.split(|&b| b == b'\n')
        .any(|line| !line.starts_with(b"#") && matches!(line.last(), Some(b' ' | b'\t')))
}

#[test]
fn verdicts_agree_with_promtool_on_mutated_expositions() {
    if !tool(PROMTOOL, "promtool is the reference text parser") {
        return;
    }
    let edge = edge_cases().expect("builds");
    let base = edge
        .registry
        .encode_to_string(Format::Text)
        .expect("encodes")
        .into_bytes();
    assert_eq!(promtool_error_line(&base), None);
    let mut mutations = Mutations {
        seed: 0x5eed_1234_abcd,
    };
    let (mut compared, mut invalid) = (0, 0);
    let mut disagreements = Vec::new();
    while compared < 250 {
        let body = mutations.mutate(&base);
        if has_trailing_blank(&body) {
            continue;
        }
        compared += 1;
        let theirs = promtool_error_line(&body);
        let ours = validate(&body, Format::Text).err().map(|e| e.line);
        invalid += usize::from(theirs.is_some());
        if theirs != ours {
            let line = theirs.or(ours).unwrap_or(1);
            let text = String::from_utf8_lossy(&body);
            disagreements.push(format!(
                "promtool: {theirs:?}, ours: {ours:?} ({}), at line {line}: {:?}",
                validate(&body, Format::Text)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
                text.lines().nth(line - 1).unwrap_or_default()
            ));
        }
    }
    assert!(
        invalid > 50,
        "the mutations should break many inputs, broke {invalid}"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {compared} disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
