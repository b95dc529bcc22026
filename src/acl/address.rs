//! Remote-address patterns of `plain_acl.yml` (`globalWhiteRemoteAddresses`, an account's
//! `whiteRemoteAddress`), with the forms of RocketMQ's `RemoteAddressStrategyFactory`:
//! blank (matches nothing), `*` / `*.*.*.*` / `*:*:*:*:*:*:*:*` (everything), one address (IPv4 or
//! IPv6), a comma list of addresses, a set in the last part (`192.168.1.{1,2,3}`,
//! `1050::5:600:{300c,300d}`), and per-part wildcards and ranges (`192.168.*`, `192.168.1-200.*`,
//! `10.10.0.1-100`, `1050:0:0:0:5:600:300c:*`). Missing trailing IPv4 parts count as `*`.
//! Parsed once when the rules load; matching is a few integer compares.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A pattern that does not parse; the text says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad address pattern '{pattern}': {why}")]
pub struct BadPattern {
    pub pattern: String,
    pub why: String,
}

/// One part of a wildcard pattern: an inclusive range (an exact part is a range of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    lo: u16,
    hi: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressPattern {
    /// Blank text: matches nothing.
    Nothing,
    /// `*`: matches every address.
    Any,
    /// One or more exact addresses.
    Set(Vec<IpAddr>),
    /// Four IPv4 parts, each a range.
    V4(Vec<Part>),
    /// Eight IPv6 groups, each a range.
    V6(Vec<Part>),
}

impl AddressPattern {
    /// Parse a pattern as written in the file.
    pub fn parse(text: &str) -> Result<Self, BadPattern> {
        let t = text.trim();
        let bad = |why: &str| BadPattern {
            pattern: t.to_string(),
            why: why.to_string(),
        };
        if t.is_empty() {
            return Ok(AddressPattern::Nothing);
        }
        if matches!(t, "*" | "*.*.*.*" | "*:*:*:*:*:*:*:*") {
            return Ok(AddressPattern::Any);
        }
        if t.ends_with('}') {
            return parse_braces(t).map_err(|w| bad(&w));
        }
        if t.contains(',') {
            let ips = t
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| exact(s).map_err(|w| bad(&w)))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AddressPattern::Set(ips));
        }
        if t.contains('*') || t.contains('-') {
            return if t.contains(':') {
                parse_v6_parts(t).map(AddressPattern::V6)
            } else {
                parse_v4_parts(t).map(AddressPattern::V4)
            }
            .map_err(|w| bad(&w));
        }
        exact(t)
            .map(|ip| AddressPattern::Set(vec![ip]))
            .map_err(|w| bad(&w))
    }

    /// Whether `ip` (a connection's peer) matches. IPv4-mapped IPv6 peers count as IPv4.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            AddressPattern::Nothing => false,
            AddressPattern::Any => true,
            AddressPattern::Set(ips) => ips.contains(&ip),
            AddressPattern::V4(parts) => match ip {
                IpAddr::V4(v4) => in_parts(parts, v4.octets().iter().map(|&o| o as u16)),
                IpAddr::V6(_) => false,
            },
            AddressPattern::V6(parts) => match ip {
                IpAddr::V6(v6) => in_parts(parts, v6.segments().into_iter()),
                IpAddr::V4(_) => false,
            },
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4; everything else as is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_parts(parts: &[Part], values: impl Iterator<Item = u16>) -> bool {
    parts
        .iter()
        .zip(values)
        .all(|(p, v)| (p.lo..=p.hi).contains(&v))
}

fn exact(s: &str) -> Result<IpAddr, String> {
    s.parse::<IpAddr>()
        .map(canonical)
        .map_err(|_| format!("'{s}' is not an IPv4 or IPv6 address"))
}

/// `a.b.c.{x,y}` or `a:b:..:{x,y}`: the set of addresses with each listed last part.
fn parse_braces(t: &str) -> Result<AddressPattern, String> {
    let open = t.rfind('{').ok_or("a '}' without '{'")?;
    let head = &t[..open];
    if !(head.ends_with('.') || head.ends_with(':')) {
        return Err("the {..} set must be the last part".into());
    }
    let items = &t[open + 1..t.len() - 1];
    let ips = items
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|last| exact(&format!("{head}{last}")))
        .collect::<Result<Vec<_>, _>>()?;
    if ips.is_empty() {
        return Err("the {..} set is empty".into());
    }
    Ok(AddressPattern::Set(ips))
}

fn part(text: &str, max: u16, radix: u32) -> Result<Part, String> {
    let text = text.trim();
    let num = |s: &str| {
        u16::from_str_radix(s.trim(), radix)
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| format!("part '{s}' is not a number in 0-{max}"))
    };
    if text == "*" {
        return Ok(Part { lo: 0, hi: max });
    }
    if let Some((a, b)) = text.split_once('-') {
        let (lo, hi) = (num(a)?, num(b)?);
        if lo > hi {
            return Err(format!("range '{text}' starts after its end"));
        }
        return Ok(Part { lo, hi });
    }
    num(text).map(|v| Part { lo: v, hi: v })
}

fn parse_v4_parts(t: &str) -> Result<Vec<Part>, String> {
    let texts: Vec<&str> = t.split('.').collect();
    if texts.len() > 4 || texts.iter().any(|p| p.trim().is_empty()) {
        return Err("an IPv4 pattern has at most 4 non-empty parts".into());
    }
    if texts[0].contains('*') || texts[0].contains('-') {
        return Err("the first part must be a number (use '*' alone for every address)".into());
    }
    let mut parts = texts
        .iter()
        .map(|p| part(p, 255, 10))
        .collect::<Result<Vec<_>, _>>()?;
    parts.resize(4, Part { lo: 0, hi: 255 });
    Ok(parts)
}

fn parse_v6_parts(t: &str) -> Result<Vec<Part>, String> {
    let all = Part { lo: 0, hi: 0xffff };
    let zero = Part { lo: 0, hi: 0 };
    let groups = |s: &str| -> Result<Vec<Part>, String> {
        if s.is_empty() {
            return Ok(Vec::new());
        }
        s.split(':').map(|g| part(g, 0xffff, 16)).collect()
    };
    let parts = match t.split_once("::") {
        Some((left, right)) => {
            let (l, r) = (groups(left)?, groups(right)?);
            if l.len() + r.len() > 7 {
                return Err("too many groups around '::'".into());
            }
            let mut v = l;
            v.resize(8 - r.len(), zero);
            v.extend(r);
            v
        }
        None => {
            let mut v = groups(t)?;
            if v.len() > 8 {
                return Err("an IPv6 pattern has at most 8 groups".into());
            }
            v.resize(8, all);
            v
        }
    };
    Ok(parts)
}

/// The address of a peer as text for logs and RocketMQ's messages.
pub fn show(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => Ipv4Addr::to_string(&v4),
        IpAddr::V6(v6) => Ipv6Addr::to_string(&v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, ip: &str) -> bool {
        AddressPattern::parse(pattern)
            .unwrap()
            .matches(ip.parse().unwrap())
    }

    #[test]
    fn blank_star_and_exact() {
        assert!(!m("", "127.0.0.1"));
        assert!(m("*", "10.0.0.1"));
        assert!(m("*.*.*.*", "::1"));
        assert!(m("127.0.0.1", "127.0.0.1"));
        assert!(m("127.0.0.1", "::ffff:127.0.0.1"));
        assert!(!m("127.0.0.1", "127.0.0.2"));
        assert!(m(
            "1050:0000:0000:0000:0005:0600:300c:326b",
            "1050::5:600:300c:326b"
        ));
    }

    #[test]
    fn lists_sets_ranges_and_wildcards() {
        assert!(m("10.0.0.1,10.0.0.2", "10.0.0.2"));
        assert!(!m("10.0.0.1,10.0.0.2", "10.0.0.3"));
        assert!(m("192.168.1.{1,2,3}", "192.168.1.3"));
        assert!(!m("192.168.1.{1,2,3}", "192.168.1.4"));
        assert!(m("192.168.*", "192.168.7.9"));
        assert!(!m("192.168.*", "192.169.7.9"));
        assert!(m("192.168.1-10.*", "192.168.10.200"));
        assert!(!m("192.168.1-10.*", "192.168.11.1"));
        assert!(m("10.10.0.1-100", "10.10.0.100"));
        assert!(!m("10.10.0.1-100", "10.10.0.101"));
        assert!(!m("10.10.*", "::1"));
        assert!(m("1050:0:0:0:5:600:300c:*", "1050::5:600:300c:1"));
        assert!(m("1050::5:600:300c:1-ff", "1050::5:600:300c:ff"));
        assert!(!m("1050::5:600:300c:1-ff", "1050::5:600:300c:100"));
        assert!(m("1050::5:600:{300c,300d}", "1050::5:600:300d"));
    }

    #[test]
    fn bad_patterns_say_why() {
        for bad in [
            "10.0.0.300",
            "10.5-1.*",
            "*.10.0.1",
            "1.2.3.4.5.*",
            "10.0.0.{}",
            "hello",
            "10.0.0.1,nope",
            "10.{1,2}.0.1",
        ] {
            let e = AddressPattern::parse(bad).unwrap_err();
            assert_eq!(e.pattern, bad);
            assert!(!e.why.is_empty());
        }
    }
}
