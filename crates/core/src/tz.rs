//! Shop-local times for callers that know only UTC (the service and the command line).
//! Evaluation itself never converts time zones: the Function gets local times in its input.

// Conversions exist only with the `tz` feature.
#[cfg_attr(not(feature = "tz"), allow(unused_imports))]
use chrono::{DateTime, NaiveDateTime, Utc};

#[cfg_attr(not(feature = "tz"), allow(unused_imports))]
use crate::facts::Facts;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IANA time zone")]
pub struct UnknownTimeZone(pub String);

/// Whether `name` is a time zone this build knows. Without the `tz` feature only the shape
/// (`UTC` or `Area/City`) is checked.
pub fn is_known(name: &str) -> bool {
    #[cfg(feature = "tz")]
    {
        name.parse::<chrono_tz::Tz>().is_ok()
    }
    #[cfg(not(feature = "tz"))]
    {
        name == "UTC"
            || (name.contains('/')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)))
    }
}

/// IANA names known to this build (empty without the `tz` feature).
pub fn names() -> Vec<&'static str> {
    #[cfg(feature = "tz")]
    {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
    }
    #[cfg(not(feature = "tz"))]
    {
        Vec::new()
    }
}

/// `utc` as wall-clock time in `zone`; DST is applied by the zone's rules.
#[cfg(feature = "tz")]
pub fn to_local(utc: DateTime<Utc>, zone: &str) -> Result<NaiveDateTime, UnknownTimeZone> {
    let tz: chrono_tz::Tz = zone
        .parse()
        .map_err(|_| UnknownTimeZone(zone.to_string()))?;
    Ok(utc.with_timezone(&tz).naive_local())
}

/// Fills the shop-local times the facts lack, from UTC and the shop's zone.
#[cfg(feature = "tz")]
pub fn localize(facts: &mut Facts, now: DateTime<Utc>, zone: &str) -> Result<(), UnknownTimeZone> {
    if facts.now_local.is_none() {
        facts.now_local = Some(to_local(now, zone)?);
    }
    if facts.order.created_at_local.is_none()
        && let Some(created) = facts.order.created_at
    {
        facts.order.created_at_local = Some(to_local(created, zone)?);
    }
    Ok(())
}

#[cfg(all(test, feature = "tz"))]
mod tests {
    use super::*;

    #[test]
    fn local_time_follows_daylight_saving() {
        let winter: DateTime<Utc> = "2026-01-15T12:00:00Z".parse().unwrap();
        let summer: DateTime<Utc> = "2026-07-15T12:00:00Z".parse().unwrap();
        assert_eq!(
            to_local(winter, "Europe/Copenhagen").unwrap().to_string(),
            "2026-01-15 13:00:00"
        );
        assert_eq!(
            to_local(summer, "Europe/Copenhagen").unwrap().to_string(),
            "2026-07-15 14:00:00"
        );
        assert!(to_local(summer, "Mars/Olympus").is_err());
    }
}
