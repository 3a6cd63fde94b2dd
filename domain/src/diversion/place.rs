//! Where a sighting was, and how much that place is worth as evidence. Browser coordinates given
//! with the consumer's consent are strongest; a region the consumer picked is their word; a
//! client address says little (roaming SIMs, proxies, photos of labels posted online).

use super::{RegionBook, RegionCode};

/// Which source gave a sighting its place (`sightings.place_source`, `diversion_alerts.place_source`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PlaceSource {
    /// The browser's coordinates, shared with consent, mapped to the nearest district.
    Browser,
    /// A region the consumer picked on the page.
    Picked,
    /// The client address, through the configured IP-to-region file.
    ClientAddress,
    /// A handheld's scan: the region of the agent (or HQ warehouse) that owns the device.
    Device,
}

impl PlaceSource {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PlaceSource> {
        s.parse().ok()
    }

    /// The weight of the place as evidence, out of 100 (docs/diversion.md).
    pub fn weight(self) -> i32 {
        match self {
            PlaceSource::Device => 70,
            PlaceSource::Browser => 60,
            PlaceSource::Picked => 35,
            PlaceSource::ClientAddress => 20,
        }
    }
}

/// A sighting's place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub region: RegionCode,
    pub source: PlaceSource,
    /// The browser's point, when that was the source.
    pub point: Option<(f64, f64)>,
}

/// The best place the evidence gives: browser coordinates, else the picked region (if it is in
/// the book), else the client address's region.
pub fn locate(
    book: &RegionBook,
    browser: Option<(f64, f64)>,
    picked: Option<RegionCode>,
    by_address: Option<RegionCode>,
) -> Option<Place> {
    if let Some((lat, lon)) = browser {
        if let Some(region) = book.nearest_district(lat, lon) {
            return Some(Place {
                region,
                source: PlaceSource::Browser,
                point: Some((lat, lon)),
            });
        }
    }
    if let Some(region) = picked.filter(|c| book.get(*c).is_some()) {
        return Some(Place {
            region,
            source: PlaceSource::Picked,
            point: None,
        });
    }
    by_address.map(|region| Place {
        region,
        source: PlaceSource::ClientAddress,
        point: None,
    })
}

/// The risk score of a place outside the expected regions, 0–100: the source's weight, plus how
/// far outside it is (another province +30, another city of the same province +15, another
/// district of the same city +5), plus 10 when the place has been seen off-region before.
pub fn risk(
    source: PlaceSource,
    expected: &[RegionCode],
    observed: RegionCode,
    seen_before: bool,
) -> i32 {
    let gap = if expected.iter().any(|e| e.province() == observed.province()) {
        if expected.iter().any(|e| e.city() == observed.city()) {
            5
        } else {
            15
        }
    } else {
        30
    };
    let repeat = if seen_before { 10 } else { 0 };
    (source.weight() + gap + repeat).min(100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn place_sources_keep_their_stored_names() {
        use super::PlaceSource as P;
        crate::pin_stored_names(
            &[
                (P::Browser, "browser"),
                (P::Picked, "picked"),
                (P::ClientAddress, "client_address"),
                (P::Device, "device"),
            ],
            P::as_str,
            P::parse,
        );
    }

    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).expect("code")
    }

    fn book() -> RegionBook {
        RegionBook::parse(
            "h\n330000,浙江省,30.26,120.15\n330100,杭州市,30.27,120.15\n330106,西湖区,30.26,120.13\n\
             440000,广东省,23.13,113.26\n440106,天河区,23.12,113.36\n",
        )
        .expect("book")
    }

    #[test]
    fn browser_beats_picked_beats_address() {
        let b = book();
        let p = locate(
            &b,
            Some((23.1, 113.3)),
            Some(code("330100")),
            Some(code("330000")),
        )
        .expect("place");
        assert_eq!((p.region, p.source), (code("440106"), PlaceSource::Browser));
        let p = locate(&b, None, Some(code("330100")), Some(code("440000"))).expect("place");
        assert_eq!((p.region, p.source), (code("330100"), PlaceSource::Picked));
        // A picked code not in the book is ignored.
        let p = locate(&b, None, Some(code("520100")), Some(code("440000"))).expect("place");
        assert_eq!(p.source, PlaceSource::ClientAddress);
        assert_eq!(locate(&b, None, None, None), None);
    }

    #[test]
    fn risk_grows_with_evidence_and_distance() {
        let exp = [code("330106")];
        let far_browser = risk(PlaceSource::Browser, &exp, code("440106"), false);
        let far_address = risk(PlaceSource::ClientAddress, &exp, code("440106"), false);
        let near_browser = risk(PlaceSource::Browser, &exp, code("330102"), false);
        assert!(far_browser > far_address);
        assert!(far_browser > near_browser);
        assert_eq!(far_browser, 90);
        assert_eq!(risk(PlaceSource::Device, &exp, code("440106"), true), 100);
    }
}
