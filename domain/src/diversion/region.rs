//! GB/T 2260 administrative regions (行政区划): six-digit codes, province ⊃ city ⊃ district,
//! and the book of all of them with their centroids (`server/data/regions/gb2260.csv`).

use std::collections::HashMap;
use std::fmt;

/// A six-digit GB/T 2260 code: `PPCCDD`. `330000` is a province, `330100` a city (地级),
/// `330106` a district or county (区县).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(u32);

/// The three levels of the hierarchy.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    Province,
    City,
    District,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl RegionCode {
    /// Six ASCII digits, province part 11–82; anything else is not a region code.
    pub fn parse(s: &str) -> Option<RegionCode> {
        let s = s.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = s.parse().ok()?;
        (110_000..=829_999).contains(&n).then_some(RegionCode(n))
    }

    pub fn level(self) -> Level {
        if self.0 % 10_000 == 0 {
            Level::Province
        } else if self.0 % 100 == 0 {
            Level::City
        } else {
            Level::District
        }
    }

    pub fn province(self) -> RegionCode {
        RegionCode(self.0 / 10_000 * 10_000)
    }

    /// The city part (the province itself for a province).
    pub fn city(self) -> RegionCode {
        match self.level() {
            Level::Province => self,
            _ => RegionCode(self.0 / 100 * 100),
        }
    }

    /// Whether `other` lies within `self` (a region contains itself).
    pub fn contains(self, other: RegionCode) -> bool {
        match self.level() {
            Level::Province => self.province() == other.province(),
            Level::City => other.level() != Level::Province && self.city() == other.city(),
            Level::District => self == other,
        }
    }

    /// One contains the other: neither can be said to lie outside the other.
    pub fn overlaps(self, other: RegionCode) -> bool {
        self.contains(other) || other.contains(self)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// One region of the book.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    /// Centroid (WGS-84 as given by the data source), when known.
    pub centroid: Option<(f64, f64)>,
}

/// Every region, by code.
#[derive(Debug, Clone, Default)]
pub struct RegionBook {
    by_code: HashMap<RegionCode, Region>,
    /// Districts with a centroid, for the nearest-district search.
    located: Vec<RegionCode>,
}

impl RegionBook {
    /// Parses `code,name,latitude,longitude` lines (a header line first; coordinates may be
    /// empty). A malformed line is an error naming it.
    pub fn parse(text: &str) -> Result<RegionBook, String> {
        let mut book = RegionBook::default();
        for (n, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split(',').collect();
            let bad = || format!("regions line {}: {line:?}", n + 1);
            let [code, name, lat, lon] = cols[..] else {
                return Err(bad());
            };
            let code = RegionCode::parse(code).ok_or_else(bad)?;
            let centroid = match (lat.trim(), lon.trim()) {
                ("", "") => None,
                (lat, lon) => Some((
                    lat.parse::<f64>().map_err(|_| bad())?,
                    lon.parse::<f64>().map_err(|_| bad())?,
                )),
            };
            if centroid.is_some() && code.level() == Level::District {
                book.located.push(code);
            }
            let region = Region {
                code,
                name: name.trim().to_string(),
                centroid,
            };
            book.by_code.insert(code, region);
        }
        Ok(book)
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    pub fn get(&self, code: RegionCode) -> Option<&Region> {
        self.by_code.get(&code)
    }

    /// A code that is in the book, or `None`.
    pub fn known(&self, s: &str) -> Option<RegionCode> {
        RegionCode::parse(s).filter(|c| self.by_code.contains_key(c))
    }

    /// `浙江省 杭州市 西湖区` style: the names from the province down (cities named 市辖区
    /// are skipped).
    /// The provinces, by code.
    pub fn provinces(&self) -> Vec<&Region> {
        let mut out: Vec<&Region> = self
            .by_code
            .values()
            .filter(|r| r.code.level() == Level::Province)
            .collect();
        out.sort_by_key(|r| r.code);
        out
    }

    /// The cities and districts of `province`, by code (a city before its districts).
    pub fn within(&self, province: RegionCode) -> Vec<&Region> {
        let mut out: Vec<&Region> = self
            .by_code
            .values()
            .filter(|r| r.code.level() != Level::Province && r.code.province() == province)
            .collect();
        out.sort_by_key(|r| r.code);
        out
    }

    pub fn full_name(&self, code: RegionCode) -> String {
        let mut parts = vec![code.province()];
        if code.level() != Level::Province {
            parts.push(code.city());
        }
        if code.level() == Level::District {
            parts.push(code);
        }
        let names: Vec<&str> = parts
            .iter()
            .filter_map(|c| self.get(*c))
            .map(|r| r.name.as_str())
            .filter(|n| *n != "市辖区" && *n != "县")
            .collect();
        if names.is_empty() {
            code.to_string()
        } else {
            names.join(" ")
        }
    }

    /// The district whose centroid is nearest to the point (great-circle distance).
    pub fn nearest_district(&self, lat: f64, lon: f64) -> Option<RegionCode> {
        self.located
            .iter()
            .filter_map(|c| {
                let (a, b) = self.get(*c)?.centroid?;
                Some((*c, super::cloning::distance_km((lat, lon), (a, b))))
            })
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(c, _)| c)
    }

    /// The centroid of the region, or of the nearest enclosing region that has one.
    pub fn centroid(&self, code: RegionCode) -> Option<(f64, f64)> {
        [code, code.city(), code.province()]
            .into_iter()
            .find_map(|c| self.get(c)?.centroid)
    }

    /// Provinces and cities, in code order (for the consumer's region picker).
    pub fn provinces_and_cities(&self) -> Vec<&Region> {
        let mut v: Vec<&Region> = self
            .by_code
            .values()
            .filter(|r| r.code.level() != Level::District && r.name != "市辖区")
            .collect();
        v.sort_by_key(|r| r.code);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).expect("code")
    }

    #[test]
    fn codes_and_levels() {
        assert_eq!(code("330000").level(), Level::Province);
        assert_eq!(code("330100").level(), Level::City);
        assert_eq!(code("330106").level(), Level::District);
        assert_eq!(code("330106").city(), code("330100"));
        assert_eq!(code("330106").province(), code("330000"));
        for bad in [
            "", "33010", "3301066", "33O106", "000000", "990000", " 33010a",
        ] {
            assert!(RegionCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn containment_is_by_hierarchy() {
        assert!(code("330000").contains(code("330106")));
        assert!(code("330100").contains(code("330106")));
        assert!(code("330106").contains(code("330106")));
        assert!(!code("330106").contains(code("330105")));
        assert!(!code("330100").contains(code("330000")));
        assert!(!code("330100").contains(code("330200")));
        assert!(!code("330000").contains(code("440106")));
        assert!(code("330100").overlaps(code("330000")));
        assert!(!code("330100").overlaps(code("440000")));
    }

    #[test]
    fn parses_and_finds_the_nearest_district() {
        let book = RegionBook::parse(
            "code,name,latitude,longitude\n330000,浙江省,30.26,120.15\n330100,杭州市,30.27,120.15\n\
             330106,西湖区,30.26,120.13\n330110,余杭区,30.42,120.30\n440106,天河区,23.12,113.36\n",
        )
        .expect("parse");
        assert_eq!(book.len(), 5);
        assert_eq!(book.nearest_district(30.25, 120.12), Some(code("330106")));
        assert_eq!(book.nearest_district(23.0, 113.3), Some(code("440106")));
        assert_eq!(book.full_name(code("330106")), "浙江省 杭州市 西湖区");
        assert!(RegionBook::parse("h\n330000,x,1\n").is_err());
        assert!(RegionBook::parse("h\n330000,x,a,b\n").is_err());
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_level() {
        crate::pin_stored_names(
            &[
                (Level::Province, "province"),
                (Level::City, "city"),
                (Level::District, "district"),
            ],
            Level::as_str,
            |s: &str| s.parse::<Level>().ok(),
        );
    }
}
