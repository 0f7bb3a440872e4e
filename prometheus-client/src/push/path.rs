//! The Pushgateway's URL path for a group: `/metrics/job/<job>{/<label>/<value>}`.

use base64::Engine;

/// Appends `/<name>/<value>` (or `/<name>@base64/<value in base64url>`) as the Pushgateway
/// reads it: a value with a `/` (which no percent-escape gets through every proxy) and the
/// empty value (which would be an empty path segment) are sent in base64url, the empty one
/// as `=`; any other is percent-encoded.
pub(super) fn push_component(path: &mut String, name: &str, value: &str) {
    path.push('/');
    path.push_str(name);
    if value.is_empty() {
        path.push_str("@base64/=");
    } else if value.contains('/') {
        path.push_str("@base64/");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(value, path);
    } else {
        path.push('/');
        percent_encode(path, value);
    }
}

/// Percent-encodes every byte outside RFC 3986's unreserved characters.
fn percent_encode(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str, value: &str) -> String {
        let mut path = String::new();
        push_component(&mut path, name, value);
        path
    }

    #[test]
    fn plain_values_are_percent_encoded() {
        assert_eq!(component("job", "backup"), "/job/backup");
        assert_eq!(
            component("instance", "db 1:5432"),
            "/instance/db%201%3A5432"
        );
        assert_eq!(component("path", "café"), "/path/caf%C3%A9");
    }

    #[test]
    fn slashes_and_empty_values_go_in_base64url() {
        assert_eq!(component("path", "/var/tmp"), "/path@base64/L3Zhci90bXA");
        assert_eq!(component("dir", "a/b?"), "/dir@base64/YS9iPw");
        assert_eq!(component("empty", ""), "/empty@base64/=");
    }
}
