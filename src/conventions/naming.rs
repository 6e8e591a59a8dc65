//! Span names: `"{METHOD} {path}"` for the server span (BentoML's ASGI naming)
//! and `"... http send"` / `"... http receive"` for its children.

use http::Method;

use super::message::Message;

/// The method as it appears in span names and `http.method`: upper-cased, and
/// `_OTHER` for anything outside the standard set (unbounded names would explode
/// cardinality in every backend).
pub(crate) fn sanitize_method(method: &Method) -> &'static str {
    // The standard methods compare without their text.
    let known = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "",
    };
    if !known.is_empty() {
        return known;
    }
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT",
    ];
    let m = method.as_str();
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(m))
        .copied()
        .unwrap_or("_OTHER")
}

/// The stable conventions' name: `"{METHOD} {route}"` when the route template is
/// known, else `"{METHOD}"` (an unknown method is `HTTP`).
pub(crate) fn stable_span_name(method: &'static str, route: Option<&str>) -> String {
    match route {
        Some(route) => span_name(method, route),
        None => (if method == "_OTHER" { "HTTP" } else { method }).to_owned(),
    }
}

/// `"{METHOD} {path}"`; an unknown method is named `HTTP`.
pub(crate) fn span_name(method: &'static str, path: &str) -> String {
    let method = if method == "_OTHER" { "HTTP" } else { method };
    let mut name = String::with_capacity(method.len() + 1 + path.len());
    name.push_str(method);
    name.push(' ');
    name.push_str(path);
    name
}

/// The name of the child span recording `message` under the server span
/// `server_name`, appended to `out`: `"... http receive"` for request frames,
/// else `"... http send"`.
pub(crate) fn push_child_name(out: &mut String, server_name: &str, message: Message) {
    let suffix = match message {
        Message::Request => " http receive",
        _ => " http send",
    };
    out.reserve(server_name.len() + suffix.len());
    out.push_str(server_name);
    out.push_str(suffix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_sanitized() {
        assert_eq!(sanitize_method(&Method::POST), "POST");
        assert_eq!(sanitize_method(&Method::from_bytes(b"get").unwrap()), "GET");
        assert_eq!(
            sanitize_method(&Method::from_bytes(b"BREW").unwrap()),
            "_OTHER"
        );
        assert_eq!(span_name("_OTHER", "/pot"), "HTTP /pot");
        assert_eq!(span_name("POST", "/summarize"), "POST /summarize");
    }
}
