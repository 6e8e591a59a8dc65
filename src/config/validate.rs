//! One check per kind of value. The settings table applies each to the config's
//! value and to the `OTEL_*` variable that overrides it, so a value is judged the
//! same way wherever it comes from. Each returns the parsed value, or why it is
//! wrong without repeating it (the caller decides whether the value may be shown).

use std::path::Path;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::redact;

/// A sampling ratio in `[0, 1]`.
pub(crate) fn ratio(r: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err("expected a number from 0 to 1".into())
    }
}

/// An export timeout in seconds: positive, at most one day.
pub(crate) fn timeout_secs(t: f64) -> Result<Duration, String> {
    if t.is_finite() && t > 0.0 && t <= 86_400.0 {
        Ok(Duration::from_secs_f64(t))
    } else {
        Err("expected a number of seconds greater than 0 (at most one day)".into())
    }
}

/// A count that must be at least 1.
pub(crate) fn positive(n: usize) -> Result<usize, String> {
    if n > 0 {
        Ok(n)
    } else {
        Err("expected a positive integer".into())
    }
}

/// A name with something in it.
pub(crate) fn name(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("expected a non-empty name".into())
    } else {
        Ok(s.to_owned())
    }
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn http_url(url: &str) -> Result<String, String> {
    let ok = url.parse::<http::Uri>().ok().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https"))
            && u.authority().is_some_and(|a| !a.host().is_empty())
    });
    if ok {
        Ok(url.to_owned())
    } else {
        Err("expected an absolute http:// or https:// URL with a host".into())
    }
}

/// A host name or IP address (no blanks).
pub(crate) fn host(h: &str) -> Result<String, String> {
    if h.trim().is_empty() || h.contains(char::is_whitespace) {
        Err("expected a host name or IP address".into())
    } else {
        Ok(h.to_owned())
    }
}

/// A port other than 0.
pub(crate) fn port(p: u16) -> Result<u16, String> {
    if p == 0 {
        Err("expected a port from 1 to 65535".into())
    } else {
        Ok(p)
    }
}

/// An HTTP header to send with every export. The value is a secret (an API key):
/// it is marked sensitive, and the error says what is wrong without showing it.
pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    if let Some(problem) = redact::header_name_problem(name) {
        return Err(problem);
    }
    if let Some(problem) = redact::header_value_problem(value) {
        return Err(problem);
    }
    match (
        HeaderName::from_bytes(name.trim().as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(mut value)) => {
            value.set_sensitive(true);
            Ok((name, value))
        }
        _ => Err("not a valid HTTP header".into()),
    }
}

/// A readable PEM file holding at least one certificate; its contents.
pub(crate) fn certificate(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(format!("`{}` holds no PEM certificate", path.display()));
    }
    Ok(pem)
}

/// `true` / `false`, in any case.
pub(crate) fn boolean(v: &str) -> Result<bool, String> {
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err("expected true or false".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(ratio(0.5).is_ok() && ratio(1.5).is_err() && ratio(f64::NAN).is_err());
        assert!(timeout_secs(0.0).is_err() && timeout_secs(2.5).is_ok());
        assert!(http_url("http://h:1/x").is_ok() && http_url("ftp://h").is_err());
        assert!(http_url("localhost:4318").is_err());
        assert!(host("a b").is_err() && host("").is_err() && host("h").is_ok());
        assert!(port(0).is_err());
        let (name, value) = header("X-Key", "v").unwrap();
        assert_eq!(name, "x-key");
        assert!(value.is_sensitive());
        assert!(!header("x", "s3cret\r").unwrap_err().contains("s3cret"));
        assert_eq!(boolean("TRUE"), Ok(true));
    }
}
