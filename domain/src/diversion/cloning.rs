//! The cloning rule (复制码): one physical label cannot be verified in two places further apart
//! than anyone could travel in the time between. Also the verification ceiling after which a code
//! is frozen.

/// Faster than this between two verifications of one code is impossible for one label: an
/// airliner's cruise (~900 km/h) with nothing for getting to and from airports.
pub const MAX_TRAVEL_KMH: f64 = 900.0;
/// Two places closer than this are the same place for this rule: region centroids and a client
/// address's region are coarse, so nearby districts never make a clone.
pub const MIN_DISTANCE_KM: f64 = 150.0;
/// Verifications of one code the policy allows before the code is frozen (DOMAIN: default 30).
pub const DEFAULT_MAX_VERIFICATIONS: u32 = 30;

/// Great-circle distance in kilometres between two (latitude, longitude) points.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// What two verifications of one code say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Travel {
    pub distance_km: f64,
    pub seconds: i64,
    /// `None` when no time passed at all.
    pub speed_kmh: Option<f64>,
}

/// Whether the same code seen at `a` and then, `seconds` later, at `b` must be two labels.
pub fn is_clone(a: (f64, f64), b: (f64, f64), seconds: i64) -> Option<Travel> {
    let distance_km = distance_km(a, b);
    if distance_km < MIN_DISTANCE_KM {
        return None;
    }
    let seconds = seconds.max(0);
    let speed_kmh = (seconds > 0).then(|| distance_km / (seconds as f64 / 3600.0));
    let impossible = speed_kmh.is_none_or(|v| v > MAX_TRAVEL_KMH);
    impossible.then_some(Travel {
        distance_km,
        seconds,
        speed_kmh,
    })
}

/// A code verified more often than `max` is frozen.
pub fn is_frozen(verify_count: i32, max: u32) -> bool {
    i64::from(verify_count) > i64::from(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANGZHOU: (f64, f64) = (30.27, 120.15);
    const GUANGZHOU: (f64, f64) = (23.13, 113.26);
    const SHAOXING: (f64, f64) = (30.0, 120.58);

    #[test]
    fn distances_are_great_circle() {
        let d = distance_km(HANGZHOU, GUANGZHOU);
        assert!((1000.0..1100.0).contains(&d), "{d}");
        assert!(distance_km(HANGZHOU, HANGZHOU) < 1e-9);
    }

    #[test]
    fn too_far_too_fast_is_a_clone() {
        // ~1050 km in one hour: impossible.
        let t = is_clone(HANGZHOU, GUANGZHOU, 3600).expect("clone");
        assert!(t.speed_kmh.is_some_and(|v| v > 1000.0));
        // The same distance in two days: someone carried it.
        assert_eq!(is_clone(HANGZHOU, GUANGZHOU, 2 * 86400), None);
        // Neighbouring cities at once: not evidence.
        assert_eq!(is_clone(HANGZHOU, SHAOXING, 0), None);
        // Far apart at the same instant.
        assert!(is_clone(HANGZHOU, GUANGZHOU, 0).is_some());
    }

    #[test]
    fn frozen_past_the_ceiling() {
        assert!(!is_frozen(30, 30));
        assert!(is_frozen(31, 30));
    }
}
