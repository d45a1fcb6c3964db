//! Timestamps as fixed-width RFC 3339 text, so that text order is time order in SQL.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let a: DateTime<Utc> = "2026-01-02T03:04:05Z".parse().unwrap();
        let b = a + chrono::Duration::microseconds(1);
        let c = a + chrono::Duration::days(400);
        assert!(ts(a) < ts(b) && ts(b) < ts(c));
        assert_eq!(ts(a), "2026-01-02T03:04:05.000000Z");
        assert_eq!(parse_ts(&ts(b)), Some(b));
    }
}
