//! Diversion audit (防串货, DOMAIN §8), the use cases: where a sighting was (`place`), the checks
//! run on each verification and scan (`check`, `scan`), auditors' decisions (`decide`), and the
//! audit views (`views`). The rules themselves are pure, in `crate::domain::diversion`.

pub mod check;
pub mod decide;
pub mod filter;
pub mod place;
pub mod scan;
pub mod views;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

pub use check::{check_count, check_verification};
pub use scan::check_scan;

use crate::domain::diversion::RegionBook;
use crate::domain::diversion::cloning::DEFAULT_MAX_VERIFICATIONS;
use crate::domain::diversion::ip::IpRegions;
use crate::error::{Error, Result};

/// The GB/T 2260 table shipped with the server (source and date: `server/data/regions/README.md`).
const REGIONS_CSV: &str = include_str!("../../data/regions/gb2260.csv");

/// The shipped region book, parsed once.
pub fn regions() -> &'static RegionBook {
    static BOOK: OnceLock<RegionBook> = OnceLock::new();
    BOOK.get_or_init(|| {
        RegionBook::parse(REGIONS_CSV).unwrap_or_else(|e| {
            // The file is part of the build and checked by a unit test: this cannot happen
            // in a released binary; an empty book only turns the checks off.
            tracing::error!(error = %e, "the shipped regions table does not parse");
            RegionBook::default()
        })
    })
}

/// `[diversion]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiversionSettings {
    /// IP-to-region CSV file (`CHAINMARK_IP_REGIONS_FILE`; format in docs/diversion.md).
    pub ip_regions_file: Option<PathBuf>,
    /// Right-code verifications allowed before a code is frozen
    /// (`CHAINMARK_MAX_VERIFICATIONS`, default 30).
    pub max_verifications: u32,
}

impl Default for DiversionSettings {
    fn default() -> Self {
        DiversionSettings {
            ip_regions_file: None,
            max_verifications: DEFAULT_MAX_VERIFICATIONS,
        }
    }
}

impl DiversionSettings {
    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("CHAINMARK_IP_REGIONS_FILE") {
            self.ip_regions_file = Some(v.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty());
        }
        if let Some(v) = get("CHAINMARK_MAX_VERIFICATIONS") {
            self.max_verifications = v.trim().parse().map_err(|_| {
                Error::Config(format!("CHAINMARK_MAX_VERIFICATIONS={v:?} is not a count"))
            })?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<()> {
        if self.max_verifications == 0 {
            return Err(Error::Config(
                "diversion.max_verifications must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What the checks need at run time, built once.
#[derive(Debug)]
pub struct Diversion {
    pub ip_regions: IpRegions,
    pub max_verifications: u32,
    pub bursts: place::BurstMeter,
}

impl Diversion {
    /// Loads the IP file when one is configured; a missing or malformed file is an error.
    pub fn load(settings: &DiversionSettings) -> Result<Arc<Diversion>> {
        let ip_regions = match &settings.ip_regions_file {
            None => IpRegions::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!(
                        "cannot read IP regions file {}: {e}",
                        path.display()
                    ))
                })?;
                IpRegions::parse(&text).map_err(|e| {
                    Error::Config(format!("IP regions file {}: {e}", path.display()))
                })?
            }
        };
        Ok(Diversion::new(ip_regions, settings.max_verifications))
    }

    pub fn new(ip_regions: IpRegions, max_verifications: u32) -> Arc<Diversion> {
        Arc::new(Diversion {
            ip_regions,
            max_verifications,
            bursts: place::BurstMeter::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::diversion::{Level, RegionCode};

    #[test]
    fn the_shipped_table_parses_and_is_complete_enough() {
        let book = RegionBook::parse(super::REGIONS_CSV).expect("shipped table");
        let count = |level| {
            super::regions()
                .provinces_and_cities()
                .iter()
                .filter(|r| r.code.level() == level)
                .count()
        };
        assert!(book.len() > 3000, "{}", book.len());
        assert!(count(Level::Province) >= 31);
        assert!(count(Level::City) >= 300);
        let xihu = RegionCode::parse("330106").expect("code");
        assert_eq!(book.full_name(xihu), "浙江省 杭州市 西湖区");
        // Tianhe's centroid is nearest to itself.
        let (lat, lon) = book
            .centroid(RegionCode::parse("440106").expect("c"))
            .expect("c");
        assert_eq!(
            book.nearest_district(lat, lon)
                .map(|c| c.to_string())
                .as_deref(),
            Some("440106")
        );
    }

    use crate::domain::diversion::RegionBook;
}
