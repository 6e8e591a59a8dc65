//! What never leaves the process in clear: header values, passwords and URL
//! credentials. Errors, warnings, `Debug` output and `--print-config` name the
//! field and say what is wrong, never the value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Shown instead of a secret.
pub(crate) const MASK: &str = "********";

/// `url` with any `user:password@` replaced by `REDACTED@`, for messages.
pub(crate) fn url_credentials(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}REDACTED@{}",
            &url[..scheme_end],
            &rest[at + 1..]
        )),
        None => Cow::Borrowed(url),
    }
}

/// Why `value` cannot be sent as an HTTP header value, without repeating it:
/// the position and byte at fault. `None` when it is valid.
pub(crate) fn header_value_problem(value: &str) -> Option<String> {
    // The rule of `http::HeaderValue::from_str`: visible ASCII, space and tab.
    let (at, byte) = value
        .bytes()
        .enumerate()
        .find(|&(_, b)| !(b == b'\t' || (0x20..0x7f).contains(&b)))?;
    Some(format!(
        "the value ({} bytes) has byte 0x{byte:02x} at position {at}; header values \
         may hold only visible ASCII, spaces and tabs",
        value.len()
    ))
}

/// Why `name` cannot be an HTTP header name (names are not secret).
pub(crate) fn header_name_problem(name: &str) -> Option<String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .is_err()
        .then(|| format!("`{name}` is not a valid HTTP header name"))
}

/// Header maps in `Debug` output: names, with every value masked.
pub(crate) struct MaskedHeaders<'a>(pub(crate) &'a Option<BTreeMap<String, String>>);

impl fmt::Debug for MaskedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("None"),
            Some(map) => f
                .debug_map()
                .entries(map.keys().map(|k| (k, MASK)))
                .finish(),
        }
    }
}

/// An optional URL in `Debug` output, credentials masked.
pub(crate) struct MaskedUrl<'a>(pub(crate) &'a Option<String>);

impl fmt::Debug for MaskedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.as_deref().map(url_credentials), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked() {
        assert_eq!(
            url_credentials("https://u:p@h:1/a?b=c@d"),
            "https://REDACTED@h:1/a?b=c@d"
        );
        assert_eq!(url_credentials("http://h/x@y"), "http://h/x@y");
        assert_eq!(url_credentials("not a url"), "not a url");
    }

    #[test]
    fn header_problems_never_quote_the_value() {
        assert_eq!(header_value_problem("fine value\t"), None);
        let p = header_value_problem("s3cret\n").unwrap();
        assert!(
            p.contains("0x0a at position 6") && !p.contains("s3cret"),
            "{p}"
        );
        assert!(header_value_problem("é").is_some());
        assert!(header_name_problem("bad name").is_some());
        assert_eq!(header_name_problem("x-api-key"), None);
    }
}
