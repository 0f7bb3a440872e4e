//! Number formatting exactly as Prometheus writes numbers.
//!
//! Text 0.0.4 writes floats as Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits
//! that read back to the same `f64`, in exponent form when the exponent is below -4 or at least
//! 6 (`1e+06`, `1e-05`, `0.1`, `123456`), plus `+Inf`, `-Inf` and `NaN`. OpenMetrics wants the
//! same, except that `le` and `quantile` label values are canonical floats: `1.0`, never `1`.
//! Integers go through `itoa`, floats' shortest digits through `ryu`; nothing allocates.

/// Appends `v` in Go's `'g'` form (shortest round-trip digits).
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if let Some(special) = special_float(v) {
        out.extend_from_slice(special.as_bytes());
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let digits = Decimal::from_ryu(buffer.format_finite(v));
    digits.write_go(out);
}

/// Appends `v` as an OpenMetrics canonical float, as used for `le` and `quantile` values:
/// Go's form, with `.0` added to integral values written without an exponent.
pub(crate) fn write_canonical_f64(out: &mut Vec<u8>, v: f64) {
    let start = out.len();
    write_f64(out, v);
    let written = &out[start..];
    if written.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
        out.extend_from_slice(b".0");
    }
}

/// Appends an unsigned integer.
#[inline]
pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a signed integer.
#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn special_float(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// A finite float as significant digits and a decimal point position:
/// `value = 0.d1d2d3… × 10^point`, with no leading or trailing zero digits.
struct Decimal {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    point: i32,
}

impl Decimal {
    /// Reads ryu's output, plain (`123.45`, `0.001`) or scientific (`1.2345e-7`, `1e16`).
    fn from_ryu(text: &str) -> Self {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
            None => (text, 0),
        };
        let mut digits = [0u8; 24];
        let mut len = 0;
        let mut point = None;
        let mut leading_zeros = 0i32;
        for b in mantissa.bytes() {
            if b == b'.' {
                point = Some(len as i32 + leading_zeros);
                continue;
            }
            if len == 0 && b == b'0' {
                leading_zeros += 1;
                continue;
            }
            if len < digits.len() {
                digits[len] = b;
                len += 1;
            }
        }
        let integer_digits = point.unwrap_or(len as i32 + leading_zeros);
        while len > 0 && digits[len - 1] == b'0' {
            len -= 1;
        }
        Decimal {
            negative,
            digits,
            len,
            point: integer_digits - leading_zeros + exponent,
        }
    }

    fn write_go(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        let digits = &self.digits[..self.len];
        if digits.is_empty() {
            out.push(b'0');
            return;
        }
        let exponent = self.point - 1;
        if !(-4..6).contains(&exponent) {
            out.push(digits[0]);
            if digits.len() > 1 {
                out.push(b'.');
                out.extend_from_slice(&digits[1..]);
            }
            out.push(b'e');
            out.push(if exponent < 0 { b'-' } else { b'+' });
            let magnitude = exponent.unsigned_abs();
            if magnitude < 10 {
                out.push(b'0');
            }
            write_u64(out, u64::from(magnitude));
        } else if self.point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(
                b'0',
                self.point.unsigned_abs() as usize,
            ));
            out.extend_from_slice(digits);
        } else {
            let point = self.point as usize;
            if digits.len() <= point {
                out.extend_from_slice(digits);
                out.extend(std::iter::repeat_n(b'0', point - digits.len()));
            } else {
                out.extend_from_slice(&digits[..point]);
                out.push(b'.');
                out.extend_from_slice(&digits[point..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn go(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).expect("ascii")
    }

    fn canonical(v: f64) -> String {
        let mut out = Vec::new();
        write_canonical_f64(&mut out, v);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn matches_go_format_float_g() {
        // Expected strings are what Go's strconv.FormatFloat(v, 'g', -1, 64) prints.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (0.005, "0.005"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (123456789.0, "1.23456789e+08"),
            (1e21, "1e+21"),
            (2.5e-7, "2.5e-07"),
            (5e-324, "5e-324"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-f64::MAX, "-1.7976931348623157e+308"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (9007199254740993.0, "9.007199254740992e+15"),
            (0.30000000000000004, "0.30000000000000004"),
            (12.0, "12"),
            (99999.5, "99999.5"),
        ];
        for (v, want) in cases {
            assert_eq!(go(*v), *want, "formatting {v:e}");
        }
    }

    #[test]
    fn canonical_floats_for_le_and_quantile() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.0, "0.0"),
            (10.0, "10.0"),
            (0.25, "0.25"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (123456.0, "123456.0"),
            (f64::INFINITY, "+Inf"),
            (-2.0, "-2.0"),
        ];
        for (v, want) in cases {
            assert_eq!(canonical(*v), *want, "canonical {v:e}");
        }
    }

    proptest! {
        #[test]
        fn go_form_reads_back_bit_for_bit(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            let text = go(v);
            let parsed: f64 = match text.as_str() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other.parse().expect("a float Rust can read"),
            };
            if v.is_nan() {
                prop_assert!(parsed.is_nan());
            } else {
                prop_assert_eq!(parsed.to_bits(), v.to_bits(), "{} became {}", v, text);
            }
        }

        #[test]
        fn go_form_uses_shortest_digits_and_go_exponent_rule(v in any::<f64>().prop_filter("finite", |v| v.is_finite() && *v != 0.0)) {
            let text = go(v);
            // Rust's `{:e}` also prints the shortest round-trip digits.
            let sci = format!("{:e}", v);
            let (mantissa, exponent) = sci.split_once('e').expect("scientific");
            let exponent: i32 = exponent.parse().expect("exponent");
            let want_digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            let uses_exponent = text.contains('e');
            prop_assert_eq!(uses_exponent, !(-4..6).contains(&exponent), "{}", text);
            let got_mantissa = text.split('e').next().unwrap_or_default();
            let got_digits: String = got_mantissa.chars().filter(char::is_ascii_digit).collect();
            // Both print the fewest digits that read back exactly; where two such strings are
            // equally close (an exact tie) they may pick different ones, so compare lengths.
            prop_assert_eq!(
                got_digits.trim_start_matches('0').trim_end_matches('0').len(),
                want_digits.trim_end_matches('0').len()
            );
        }
    }
}
