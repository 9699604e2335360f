//! Row formatting for the generator: CSV fields, numbers, ids and
//! timestamps appended to a reused buffer.

use super::org::Node;

/// `n`'s decimal digits, right-aligned in a buffer of `'0'`s: the digits
/// are `buf[start..]`.
fn digits(mut n: u64) -> ([u8; 20], usize) {
    let mut tmp = [b'0'; 20];
    let mut k = tmp.len();
    loop {
        k -= 1;
        tmp[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return (tmp, k);
        }
    }
}

/// Appends `n` in decimal.
pub(super) fn push_num(s: &mut String, n: u64) {
    let (tmp, k) = digits(n);
    s.push_str(std::str::from_utf8(&tmp[k..]).unwrap_or_default());
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub(super) fn push_padded(b: &mut Vec<u8>, n: u64, width: usize) {
    let (tmp, k) = digits(n);
    let k = k.min(tmp.len() - width.min(tmp.len()));
    b.extend_from_slice(&tmp[k..]);
}

/// Appends the Entity Source ID of `node`: a kind prefix and the index.
pub(super) fn push_id(b: &mut Vec<u8>, node: Node) {
    let (p, x): (&[u8], usize) = match node {
        Node::Identity(x) => (b"usr-", x),
        Node::Group(x) => (b"grp-", x),
        Node::Role(x) => (b"rol-", x),
        Node::Policy(x) => (b"pol-", x),
        Node::Resource(x) => (b"res-", x),
    };
    b.extend_from_slice(p);
    push_padded(b, x as u64, 7);
}

/// Appends Unix time `t` as `2024-01-15 09:30:00 +0000 UTC`, or as RFC 3339
/// `2024-01-15T09:30:00Z` when `rfc`. The generator's times lie in
/// 2022-2025, well inside jiff's range.
pub(super) fn push_time(b: &mut Vec<u8>, t: u64, rfc: bool) {
    let at = i64::try_from(t)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .unwrap_or_default();
    let dt = jiff::tz::TimeZone::UTC.to_datetime(at);
    let digits = |b: &mut Vec<u8>, n: i8| push_padded(b, n.unsigned_abs().into(), 2);
    push_padded(b, dt.year().unsigned_abs().into(), 4);
    b.push(b'-');
    digits(b, dt.month());
    b.push(b'-');
    digits(b, dt.day());
    b.push(if rfc { b'T' } else { b' ' });
    digits(b, dt.hour());
    b.push(b':');
    digits(b, dt.minute());
    b.push(b':');
    digits(b, dt.second());
    b.extend_from_slice(if rfc { b"Z" } else { b" +0000 UTC" });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_in_both_forms() {
        for (t, rfc, text) in [
            (1_700_000_000, false, "2023-11-14 22:13:20 +0000 UTC"),
            (1_700_000_000, true, "2023-11-14T22:13:20Z"),
            (951_782_400, true, "2000-02-29T00:00:00Z"),
            (0, false, "1970-01-01 00:00:00 +0000 UTC"),
        ] {
            let mut b = Vec::new();
            push_time(&mut b, t, rfc);
            assert_eq!(String::from_utf8(b).unwrap(), text);
        }
    }
}
