//! The IP-to-region table: a CSV file of address ranges, each mapped to a GB/T 2260 code.
//!
//! Format (docs/diversion.md): one range a line, `first,last,region_code`, addresses IPv4 or
//! IPv6 (both ends of one family), inclusive; blank lines and lines starting with `#` are
//! skipped. Ranges must not overlap.

use std::net::IpAddr;

use super::RegionCode;

/// Sorted, non-overlapping ranges.
#[derive(Debug, Clone, Default)]
pub struct IpRegions {
    ranges: Vec<(u128, u128, RegionCode)>,
}

fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6),
        },
    }
}

impl IpRegions {
    /// Parses the file's text; the error names the first bad line.
    pub fn parse(text: &str) -> Result<IpRegions, String> {
        let mut ranges = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            let [first, last, region] = cols[..] else {
                return Err(bad("expected first,last,region_code"));
            };
            let first: IpAddr = first.parse().map_err(|_| bad("first is not an address"))?;
            let last: IpAddr = last.parse().map_err(|_| bad("last is not an address"))?;
            if first.is_ipv4() != last.is_ipv4() {
                return Err(bad("first and last are of different families"));
            }
            let (a, b) = (key(first), key(last));
            if a > b {
                return Err(bad("first is after last"));
            }
            let region = RegionCode::parse(region).ok_or_else(|| bad("not a GB/T 2260 code"))?;
            ranges.push((a, b, region));
        }
        ranges.sort_by_key(|r| r.0);
        if let Some(w) = ranges.windows(2).find(|w| w[1].0 <= w[0].1) {
            return Err(format!(
                "ranges overlap: the one starting at {:x} and the one starting at {:x}",
                w[0].0, w[1].0
            ));
        }
        Ok(IpRegions { ranges })
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<RegionCode> {
        let k = key(ip);
        let i = self.ranges.partition_point(|r| r.0 <= k);
        let (first, last, region) = *self.ranges.get(i.checked_sub(1)?)?;
        (first <= k && k <= last).then_some(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_ranges_of_both_families() {
        let t = IpRegions::parse(
            "# test\n1.0.1.0,1.0.3.255,350000\n\n203.0.113.0,203.0.113.255,440106\n2001:db8::,2001:db8::ffff,110105\n",
        )
        .expect("parse");
        assert_eq!(t.len(), 3);
        let at = |s: &str| t.lookup(s.parse().expect("ip")).map(|c| c.to_string());
        assert_eq!(at("1.0.2.9").as_deref(), Some("350000"));
        assert_eq!(at("203.0.113.7").as_deref(), Some("440106"));
        assert_eq!(at("::ffff:203.0.113.7").as_deref(), Some("440106"));
        assert_eq!(at("2001:db8::1").as_deref(), Some("110105"));
        assert_eq!(at("1.0.4.0"), None);
        assert_eq!(at("0.0.0.1"), None);
    }

    #[test]
    fn refuses_bad_files() {
        for bad in [
            "1.0.0.0,1.0.0.9",
            "1.0.0.9,1.0.0.0,350000",
            "1.0.0.0,2001:db8::,350000",
            "1.0.0.0,1.0.0.9,35000",
            "1.0.0.0,1.0.0.9,350000\n1.0.0.5,1.0.0.20,440000",
        ] {
            assert!(IpRegions::parse(bad).is_err(), "{bad}");
        }
    }
}
