//! Numbers as each format writes them.
//!
//! Text 0.0.4 values follow Go's `strconv.ParseFloat` (as Prometheus reads them) without hex
//! floats and `_` separators, which Prometheus' text parser refuses; `Inf`, `Infinity` and
//! `NaN` in any case, a sign only before infinity; a finite number too large for `f64` is an
//! error, not infinity. Text timestamps are integer milliseconds. OpenMetrics follows its
//! ABNF (case-insensitive, as RFC 5234 strings are): `[sign] (inf | infinity)`, `nan` without
//! a sign, decimals with an optional exponent; timestamps are finite decimal seconds.

use super::error::ParseErrorKind;

/// Which grammar a number follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NumberSyntax {
    /// Text 0.0.4 values.
    Text,
    /// OpenMetrics values.
    OpenMetrics,
    /// OpenMetrics timestamps: finite decimals only.
    OpenMetricsTimestamp,
}

/// Parses `token` as a value in `syntax`.
pub(super) fn parse_f64(token: &str, syntax: NumberSyntax) -> Result<f64, ParseErrorKind> {
    if let Some(special) = special(token, syntax) {
        return special;
    }
    if !is_decimal(token) {
        return Err(ParseErrorKind::InvalidNumber);
    }
    let v: f64 = token.parse().map_err(|_| ParseErrorKind::InvalidNumber)?;
    if v.is_infinite() {
        return Err(ParseErrorKind::NumberOutOfRange);
    }
    Ok(v)
}

/// Parses a text 0.0.4 timestamp: integer milliseconds.
pub(super) fn parse_millis(token: &str) -> Result<i64, ParseErrorKind> {
    let digits = token.strip_prefix(['-', '+']).unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseErrorKind::InvalidTimestamp);
    }
    token.parse().map_err(|_| ParseErrorKind::InvalidTimestamp)
}

fn special(token: &str, syntax: NumberSyntax) -> Option<Result<f64, ParseErrorKind>> {
    let (sign, rest) = match token.as_bytes().first() {
        Some(b'+') => (Some(1.0), &token[1..]),
        Some(b'-') => (Some(-1.0), &token[1..]),
        _ => (None, token),
    };
    let is_inf = rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity");
    let is_nan = rest.eq_ignore_ascii_case("nan");
    if !is_inf && !is_nan {
        return None;
    }
    let allowed = match syntax {
        NumberSyntax::OpenMetricsTimestamp => false,
        NumberSyntax::OpenMetrics | NumberSyntax::Text => is_inf || sign.is_none(),
    };
    Some(if !allowed {
        Err(ParseErrorKind::InvalidNumber)
    } else if is_nan {
        Ok(f64::NAN)
    } else {
        Ok(sign.unwrap_or(1.0) * f64::INFINITY)
    })
}

/// `[sign] (digits [. digits*] | . digits) [(e|E) [sign] digits]`
fn is_decimal(token: &str) -> bool {
    let b = token.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use NumberSyntax::*;

    #[test]
    fn text_values_follow_prometheus() {
        for (token, want) in [
            ("1", 1.0),
            ("-0", -0.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("+Inf", f64::INFINITY),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("0001.5", 1.5),
            ("1e-400", 0.0),
        ] {
            assert_eq!(
                parse_f64(token, Text).map(f64::to_bits),
                Ok(want.to_bits()),
                "{token}"
            );
        }
        assert!(parse_f64("NaN", Text).is_ok_and(f64::is_nan));
        assert!(parse_f64("nan", Text).is_ok_and(f64::is_nan));
        for bad in [
            "", "+", ".", "e3", "1e", "0x1p3", "1_000", "+nan", "1.2.3", "1 ", "١",
        ] {
            assert!(parse_f64(bad, Text).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_f64("1e400", Text),
            Err(ParseErrorKind::NumberOutOfRange)
        );
    }

    #[test]
    fn openmetrics_follows_its_abnf() {
        for (token, want) in [
            ("Inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("INFINITY", f64::INFINITY),
            ("+infinity", f64::INFINITY),
            ("1E3", 1000.0),
            ("+.5e+3", 500.0),
            ("0042", 42.0),
        ] {
            assert_eq!(parse_f64(token, OpenMetrics), Ok(want), "{token}");
        }
        assert!(parse_f64("nAn", OpenMetrics).unwrap().is_nan());
        for bad in [
            "-NaN", "+nan", "infinit", "1e", "e3", ".", "0x1", "1_000", " 1", "Inf ",
        ] {
            assert!(parse_f64(bad, OpenMetrics).is_err(), "{bad}");
        }
        assert!(parse_f64("+Inf", OpenMetricsTimestamp).is_err());
        assert_eq!(parse_f64("1.5e3", OpenMetricsTimestamp), Ok(1500.0));
    }

    #[test]
    fn millisecond_timestamps_are_integers() {
        assert_eq!(parse_millis("-123"), Ok(-123));
        assert!(parse_millis("1.5").is_err());
        assert!(parse_millis("99999999999999999999").is_err());
    }
}
