//! Identifiers in exported EPCIS documents (docs/epcis.md § Identifiers).
//!
//! Items and cases get GS1 Digital Link URIs on GS1's resolver (`https://id.gs1.org/01/{GTIN}/21/
//! {serial}`, `https://id.gs1.org/00/{SSCC}`) when the product has a GTIN or the case an SSCC;
//! otherwise the brand's own logistics URLs, the ones its labels print (`{base}/s/{serial}`,
//! `{base}/c/{case code}`). Parties, locations, devices and orders are URLs under the brand's
//! base URL; they name things, nothing needs to answer at them.

use codegen::gs1::Gtin14;

/// GS1's Digital Link resolver: the canonical domain for GS1 keys.
pub const GS1_RESOLVER: &str = "https://id.gs1.org";

/// Who holds or owns goods, as EPCIS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyRef {
    Hq,
    Agent(i64),
}

/// Builds identifiers under one brand's base URL.
#[derive(Debug, Clone)]
pub struct Ids {
    base: String,
}

impl Ids {
    /// `base_url` as configured (`https://brand.example`); a trailing slash is dropped.
    pub fn new(base_url: &str) -> Ids {
        Ids {
            base: base_url.trim().trim_end_matches('/').to_string(),
        }
    }

    /// An item: Digital Link with the product's GTIN when it has a valid one.
    pub fn item(&self, gtin: Option<&str>, serial: &str) -> String {
        match gtin.and_then(|g| Gtin14::parse(g.trim()).ok()) {
            Some(gtin) => format!("{GS1_RESOLVER}/01/{}/21/{}", gtin.as_str(), segment(serial)),
            None => format!("{}/s/{}", self.base, segment(serial)),
        }
    }

    /// A case: its SSCC on GS1's resolver, or the brand's case URL.
    pub fn case(&self, sscc: Option<&str>, code: &str) -> String {
        match sscc.map(str::trim).filter(|s| !s.is_empty()) {
            Some(sscc) => format!("{GS1_RESOLVER}/00/{}", segment(sscc)),
            None => format!("{}/c/{}", self.base, segment(code)),
        }
    }

    pub fn party(&self, party: PartyRef) -> String {
        match party {
            PartyRef::Hq => format!("{}/epcis/party/hq", self.base),
            PartyRef::Agent(id) => format!("{}/epcis/party/agent/{id}", self.base),
        }
    }

    /// HQ's premises, where batches are commissioned.
    pub fn hq_location(&self) -> String {
        format!("{}/epcis/location/hq", self.base)
    }

    /// A handheld scanner, as the read point of the scans it made.
    pub fn device(&self, id: &str) -> String {
        format!("{}/epcis/device/{}", self.base, segment(id))
    }

    /// A restock order, as a business transaction.
    pub fn order(&self, id: i64) -> String {
        format!("{}/epcis/order/{id}", self.base)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for one path segment.
fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digital_link_with_a_gtin_and_brand_urls_without() {
        let ids = Ids::new("https://brand.example/");
        assert_eq!(
            ids.item(Some("6901234567892"), "AB12CD34EF56GH78"),
            "https://id.gs1.org/01/06901234567892/21/AB12CD34EF56GH78"
        );
        assert_eq!(
            ids.item(None, "AB12CD34EF56GH78"),
            "https://brand.example/s/AB12CD34EF56GH78"
        );
        // A GTIN that fails its check digit is not put into a GS1 URI.
        assert_eq!(
            ids.item(Some("6901234567891"), "X"),
            "https://brand.example/s/X"
        );
        assert_eq!(
            ids.case(Some("106141411234567897"), "C1"),
            "https://id.gs1.org/00/106141411234567897"
        );
        assert_eq!(ids.case(None, "C1"), "https://brand.example/c/C1");
    }

    #[test]
    fn parties_devices_and_orders_are_brand_urls() {
        let ids = Ids::new("https://brand.example");
        assert_eq!(
            ids.party(PartyRef::Hq),
            "https://brand.example/epcis/party/hq"
        );
        assert_eq!(
            ids.party(PartyRef::Agent(7)),
            "https://brand.example/epcis/party/agent/7"
        );
        assert_eq!(
            ids.device("hh 1/a"),
            "https://brand.example/epcis/device/hh%201%2Fa"
        );
        assert_eq!(ids.order(42), "https://brand.example/epcis/order/42");
    }
}
