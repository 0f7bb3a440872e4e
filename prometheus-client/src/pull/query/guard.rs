//! Checks a query must pass before it is parsed (its length, its durations, a bound on its
//! depth read from the text) and before it is evaluated (its depth, exactly), so that no text
//! can overflow a stack, panic the parser, or keep it busy: `promql-parser` takes time
//! quadratic in the nesting (seconds for 64 KiB of `sum(sum(…`).

use promql_parser::parser::Expr;

use super::QueryError;

/// The longest duration a millisecond clock in an `i64` can count, in seconds.
const MAX_DURATION_SECONDS: f64 = i64::MAX as f64 / 1000.0;

/// Refuses a text longer than `max_length`, nested deeper than `max_depth` by [`DepthBound`],
/// or with a duration the parser cannot take.
pub(super) fn check_text(
    text: &str,
    max_length: usize,
    max_depth: usize,
) -> Result<(), QueryError> {
    if text.len() > max_length {
        return Err(QueryError::TooLong {
            length: text.len(),
            limit: max_length,
        });
    }
    scan(text, max_depth)
}

/// An upper bound on the depth of the expression a text parses to, kept while reading it:
/// each bracket opens a level, and each operator (binary or unary) adds one to the level it
/// stands in, since a chain of `n` operators makes a tree `n` deep.
#[derive(Default)]
struct DepthBound {
    /// Operators in each open bracket, innermost last; the text's top level first.
    levels: Vec<usize>,
    /// The bound where the scan stands: the open brackets plus their operators.
    now: usize,
}

impl DepthBound {
    fn open(&mut self) {
        self.levels.push(0);
        self.now += 1;
    }

    fn close(&mut self) {
        // An unbalanced `)` is the parser's to report.
        if self.levels.len() > 1 {
            let ops = self.levels.pop().unwrap_or_default();
            self.now -= 1 + ops;
        }
    }

    fn operator(&mut self) {
        if let Some(ops) = self.levels.last_mut() {
            *ops += 1;
            self.now += 1;
        }
    }
}

/// Reads the text once: bounds its depth, and finds every number written where PromQL wants
/// a duration (after `offset`, inside `[...]`), refusing those that are not a finite number
/// of seconds in range. `promql-parser` converts such numbers with `Duration::from_secs_f64`,
/// which panics on them.
fn scan(text: &str, max_depth: usize) -> Result<(), QueryError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_brackets = false;
    let mut duration_next = false;
    let mut depth = DepthBound::default();
    depth.open();
    while i < bytes.len() {
        if depth.now > max_depth {
            return Err(QueryError::TooDeep { limit: max_depth });
        }
        let b = bytes[i];
        match b {
            b'"' | b'\'' | b'`' => {
                i = skip_string(bytes, i);
                duration_next = false;
                continue;
            }
            b'#' => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'[' => {
                depth.open();
                in_brackets = true;
                duration_next = true;
            }
            b']' => {
                depth.close();
                in_brackets = false;
            }
            b'(' | b'{' => depth.open(),
            b')' | b'}' => depth.close(),
            b':' if in_brackets => duration_next = true,
            // A sign between `offset` and its duration.
            b'+' | b'-' if duration_next => {}
            _ if b.is_ascii_whitespace() => {}
            _ if is_word_byte(b) => {
                let end = word_end(bytes, i);
                let word = &text[i..end];
                if duration_next {
                    check_duration(word)?;
                }
                if ["and", "or", "unless", "atan2"]
                    .iter()
                    .any(|op| word.eq_ignore_ascii_case(op))
                {
                    depth.operator();
                }
                duration_next = !in_brackets && word.eq_ignore_ascii_case("offset");
                i = end;
                continue;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' => {
                // `==`, `>=`, `=~` and the like are one operator.
                if !matches!(bytes.get(i + 1), Some(b'=' | b'~')) {
                    depth.operator();
                }
                duration_next = false;
            }
            _ => duration_next = false,
        }
        i += 1;
    }
    if depth.now > max_depth {
        return Err(QueryError::TooDeep { limit: max_depth });
    }
    Ok(())
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':' || b >= 0x80
}

/// The end of a word: a name, a number (with an exponent's sign), or a duration.
fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        let exponent_sign = (b == b'+' || b == b'-')
            && i > start
            && matches!(bytes[i - 1], b'e' | b'E')
            && bytes[start].is_ascii_digit();
        if !(is_word_byte(b) && b != b':' || exponent_sign) {
            break;
        }
        i += 1;
    }
    i.max(start + 1)
}

/// The index after the string literal starting at `start` (or the end of the text).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A word in a duration's place that reads as a number must be a usable number of seconds.
fn check_duration(word: &str) -> Result<(), QueryError> {
    let lower = word.to_ascii_lowercase();
    let seconds = match lower.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok().map(|n| n as f64),
        None => lower.parse::<f64>().ok(),
    };
    match seconds {
        Some(s) if !(s.is_finite() && (0.0..MAX_DURATION_SECONDS).contains(&s)) => {
            Err(QueryError::InvalidDuration(word.to_owned()))
        }
        _ => Ok(()),
    }
}

/// Refuses an expression deeper than `limit`, without recursing (the tree may be deep).
pub(super) fn check_depth(expr: &Expr, limit: usize) -> Result<(), QueryError> {
    let mut stack = vec![(expr, 1usize)];
    while let Some((expr, depth)) = stack.pop() {
        if depth > limit {
            return Err(QueryError::TooDeep { limit });
        }
        for_each_child(expr, &mut |child| stack.push((child, depth + 1)));
    }
    Ok(())
}

fn for_each_child<'e>(expr: &'e Expr, visit: &mut impl FnMut(&'e Expr)) {
    match expr {
        Expr::Aggregate(a) => {
            visit(&a.expr);
            if let Some(p) = &a.param {
                visit(p);
            }
        }
        Expr::Unary(u) => visit(&u.expr),
        Expr::Binary(b) => {
            visit(&b.lhs);
            visit(&b.rhs);
        }
        Expr::Paren(p) => visit(&p.expr),
        Expr::Subquery(s) => visit(&s.expr),
        Expr::Call(c) => c.args.args.iter().for_each(|a| visit(a)),
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::Extension(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_would_panic_the_parser_are_refused() {
        for query in [
            "up offset Inf",
            "up offset -inf",
            "up offset NaN",
            "up[1e30]",
            "up[Infinity]",
            "rate(up[5m])[1e+300:1m]",
            "up[5m:nan]",
            "up OFFSET 1e20",
        ] {
            assert!(
                matches!(
                    check_text(query, 1000, 1000),
                    Err(QueryError::InvalidDuration(_))
                ),
                "{query}"
            );
        }
        for query in [
            "up offset 5m",
            "up[1.5]",
            "up[0x10]",
            "rate(up[5m])[30m:1m] offset 1h",
            "up{job=\"[Inf]\"}",
            "up # offset Inf",
            "offset_inf",
            "Inf + NaN",
            "job:rate5m[5m]",
        ] {
            assert_eq!(check_text(query, 1000, 1000), Ok(()), "{query}");
        }
    }

    #[test]
    fn long_and_deep_queries_are_refused() {
        assert_eq!(
            check_text("up + up", 5, 100),
            Err(QueryError::TooLong {
                length: 7,
                limit: 5
            })
        );
        // The text's bound: a level for the text, two for each `-(`, one for the last `-`.
        assert_eq!(check_text("-(-(-up))", 100, 6), Ok(()));
        assert_eq!(
            check_text("-(-(-up))", 100, 5),
            Err(QueryError::TooDeep { limit: 5 })
        );
        let chain = format!("up{}", " + up".repeat(2_000));
        assert_eq!(
            check_text(&chain, 100_000, 1_000),
            Err(QueryError::TooDeep { limit: 1_000 })
        );
        assert_eq!(
            check_text("sum by (a) (rate(x{b=~\"c\"}[5m])) / 2", 1000, 6),
            Ok(())
        );
        let expr = promql_parser::parser::parse("-(-(-up))").expect("valid");
        assert_eq!(check_depth(&expr, 6), Ok(()));
        assert_eq!(check_depth(&expr, 5), Err(QueryError::TooDeep { limit: 5 }));
    }
}
