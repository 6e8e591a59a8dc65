//! Decimal digits without the formatting machinery, for the hot paths that write
//! numbers as text (addresses in attributes, numbers in Zipkin JSON).

/// The decimal digits of `n`, written at the end of `buf`.
pub(crate) fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_match_display() {
        for n in [0u64, 7, 10, 99, 65_535, 1_700_000_000_000_000, u64::MAX] {
            let mut buf = [0; 20];
            assert_eq!(super::digits(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
