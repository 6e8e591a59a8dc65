//! Socket addresses as attribute text. IPv4 (nearly every request) is written
//! by hand and the server's own address is formatted once: `Display` goes through
//! the formatting machinery and costs ten times as much on the request path.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use opentelemetry::Value;

/// The server's own address as `ip:port`, or just `ip` on port 80 (as ASGI reports it).
pub(crate) fn host_attribute(local: SocketAddr) -> String {
    address_text(local, local.port() != 80)
}

/// `ip` or `ip:port`. IPv4 (nearly every request) is written by hand: the `Display`
/// impls go through the formatting machinery and cost ten times as much.
pub(crate) fn address_text(addr: SocketAddr, with_port: bool) -> String {
    let mut out = String::with_capacity(21);
    push_address(&mut out, addr, with_port);
    out
}

/// [`address_text`], appended to `out`.
pub(crate) fn push_address(out: &mut String, addr: SocketAddr, with_port: bool) {
    use std::fmt::Write;
    match addr {
        SocketAddr::V4(v4) => {
            for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, u16::from(octet));
            }
            if with_port {
                out.push(':');
                push_decimal(out, v4.port());
            }
        }
        // Writing to a `String` cannot fail.
        SocketAddr::V6(_) if with_port => {
            let _ = write!(out, "{addr}");
        }
        SocketAddr::V6(v6) => {
            let _ = write!(out, "{}", v6.ip());
        }
    }
}

fn push_decimal(out: &mut String, n: u16) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Attribute texts that nearly every request repeats, kept as shared strings so a
/// request clones a pointer instead of allocating and formatting: the server's own
/// address and the name clients address it by. Each keeps the first value seen;
/// others are made afresh, so a cache can only save work, never show a stale value.
#[derive(Default)]
pub(crate) struct TextCache {
    pub(crate) host: HostCache,
    pub(crate) server_name: FirstText,
}

#[derive(Default)]
pub(crate) struct FirstText(OnceLock<Arc<str>>);

impl FirstText {
    pub(crate) fn value(&self, text: &str) -> Value {
        let first = self.0.get_or_init(|| text.into());
        if **first == *text {
            Value::String(first.clone().into())
        } else {
            Value::from(text.to_owned())
        }
    }
}

/// The `http.host` text of the server's own address, formatted once.
#[derive(Default)]
pub(crate) struct HostCache(OnceLock<(SocketAddr, Arc<str>)>);

impl HostCache {
    pub(crate) fn value(&self, local: SocketAddr) -> Value {
        let (addr, text) = self.0.get_or_init(|| (local, host_attribute(local).into()));
        if *addr == local {
            Value::String(text.clone().into())
        } else {
            Value::from(host_attribute(local))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_format_like_display() {
        for addr in [
            "0.0.0.0:0",
            "127.0.0.1:3000",
            "255.255.255.255:65535",
            "10.0.0.9:80",
            "[::1]:8080",
            "[2001:db8::1]:80",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(address_text(addr, true), addr.to_string());
            assert_eq!(address_text(addr, false), addr.ip().to_string());
        }
        assert_eq!(host_attribute("10.0.0.9:80".parse().unwrap()), "10.0.0.9");
        let cache = HostCache::default();
        let a: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:3001".parse().unwrap();
        assert_eq!(cache.value(a).as_str(), "127.0.0.1:3000");
        assert_eq!(cache.value(b).as_str(), "127.0.0.2:3001");
        assert_eq!(cache.value(a).as_str(), "127.0.0.1:3000");
        let names = FirstText::default();
        assert_eq!(names.value("svc:3000").as_str(), "svc:3000");
        assert_eq!(names.value("other").as_str(), "other");
        assert_eq!(names.value("svc:3000").as_str(), "svc:3000");
    }
}
