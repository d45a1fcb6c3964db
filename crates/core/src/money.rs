//! Exact money amounts, as Shopify's `MoneyV2 { amount, currencyCode }` with a decimal string.
//!
//! Amounts are kept as whole thousandths so that fees and partial refunds never round through
//! floating point; three decimals cover every ISO 4217 currency.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Thousandths of a currency unit per unit.
const SCALE: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal amount with at most three decimals")]
pub struct AmountError(pub String);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn from_thousandths(thousandths: i64) -> Self {
        Amount(thousandths)
    }

    pub fn thousandths(self) -> i64 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let err = || AmountError(text.to_string());
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        // One pass over the bytes: digits, at most one point, at most three digits after it,
        // at least one digit in all. Summed by hand with checked arithmetic (overflow fails, as
        // `str::parse` would) to keep the integer parser out of the Function's Wasm.
        let (mut whole, mut frac) = (0i64, 0i64);
        let mut decimals: Option<u32> = None;
        let mut any_digit = false;
        for byte in digits.bytes() {
            match (byte, decimals) {
                (b'0'..=b'9', None) => {
                    whole = whole
                        .checked_mul(10)
                        .and_then(|w| w.checked_add(i64::from(byte - b'0')))
                        .ok_or_else(err)?;
                }
                (b'0'..=b'9', Some(count)) if count < 3 => {
                    frac = frac * 10 + i64::from(byte - b'0');
                    decimals = Some(count + 1);
                }
                (b'.', None) => decimals = Some(0),
                _ => return Err(err()),
            }
            any_digit |= byte != b'.';
        }
        if !any_digit {
            return Err(err());
        }
        for _ in decimals.unwrap_or(0)..3 {
            frac *= 10;
        }
        let value = whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(err)?;
        Ok(Amount(if negative { -value } else { value }))
    }

    pub fn from_f64(value: f64) -> Option<Self> {
        let scaled = (value * SCALE as f64).round();
        if scaled.is_finite() && scaled.abs() < i64::MAX as f64 {
            Some(Amount(scaled as i64))
        } else {
            None
        }
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    pub fn saturating_sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }

    /// `percent` of this amount, rounded half away from zero to the currency's minor unit.
    pub fn percent(self, percent: f64, currency: &str) -> Amount {
        let raw = self.0 as f64 * percent / 100.0;
        Amount(raw.round() as i64).round_to_currency(currency)
    }

    /// Rounds to the currency's minor unit (ISO 4217 exponent).
    pub fn round_to_currency(self, currency: &str) -> Amount {
        let step = match currency_decimals(currency) {
            0 => SCALE,
            1 => 100,
            2 => 10,
            _ => 1,
        };
        let rem = self.0 % step;
        let base = self.0 - rem;
        if rem.abs() * 2 >= step {
            Amount(base + step * self.0.signum())
        } else {
            Amount(base)
        }
    }
}

/// Decimals of a currency's minor unit; two unless ISO 4217 says otherwise.
pub fn currency_decimals(currency: &str) -> u8 {
    // Codes searched as three-byte words: a `match` on the strings compiled to a comparison
    // chain about three times the size in the Function's Wasm, and a binary search in one
    // sorted table is smaller still than a scan of two.
    let code = match currency.as_bytes() {
        [a, b, c] => u32::from_be_bytes([0, *a, *b, *c]),
        _ => return 2,
    };
    match CURRENCIES.binary_search_by_key(&code, |known| known & 0xff_ffff) {
        Ok(at) => CURRENCIES.get(at).map_or(2, |known| (known >> 24) as u8),
        Err(_) => 2,
    }
}

/// A currency code as a three-byte word, with its decimals in the fourth (high) byte.
const fn with_decimals(text: &[u8; 3], decimals: u8) -> u32 {
    let [a, b, c] = *text;
    u32::from_be_bytes([decimals, a, b, c])
}

/// The currencies whose minor unit is not a hundredth, sorted by code.
const CURRENCIES: [u32; 24] = [
    with_decimals(b"BHD", 3),
    with_decimals(b"BIF", 0),
    with_decimals(b"CLP", 0),
    with_decimals(b"DJF", 0),
    with_decimals(b"GNF", 0),
    with_decimals(b"IQD", 3),
    with_decimals(b"ISK", 0),
    with_decimals(b"JOD", 3),
    with_decimals(b"JPY", 0),
    with_decimals(b"KMF", 0),
    with_decimals(b"KRW", 0),
    with_decimals(b"KWD", 3),
    with_decimals(b"LYD", 3),
    with_decimals(b"OMR", 3),
    with_decimals(b"PYG", 0),
    with_decimals(b"RWF", 0),
    with_decimals(b"TND", 3),
    with_decimals(b"UGX", 0),
    with_decimals(b"UYI", 0),
    with_decimals(b"VND", 0),
    with_decimals(b"VUV", 0),
    with_decimals(b"XAF", 0),
    with_decimals(b"XOF", 0),
    with_decimals(b"XPF", 0),
];

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let frac = abs % SCALE as u64;
        if frac == 0 {
            write!(f, "{sign}{whole}.0")
        } else if frac.is_multiple_of(10) {
            write!(f, "{sign}{whole}.{:02}", frac / 10)
        } else {
            write!(f, "{sign}{whole}.{frac:03}")
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(f64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Text(text) => Amount::parse(&text).map_err(serde::de::Error::custom),
            Raw::Number(n) => Amount::from_f64(n)
                .ok_or_else(|| serde::de::Error::custom(format!("amount {n} is out of range"))),
        }
    }
}

/// Shopify's `MoneyV2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: Amount,
    pub currency_code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_sorted_for_the_binary_search() {
        let codes = CURRENCIES.map(|known| known & 0xff_ffff);
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn currency_decimals_follow_iso_4217() {
        for code in [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ] {
            assert_eq!(currency_decimals(code), 0, "{code}");
        }
        for code in ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"] {
            assert_eq!(currency_decimals(code), 3, "{code}");
        }
        for code in ["USD", "EUR", "jpy", "JP", "JPYX", "", "XP", "\u{0}JP"] {
            assert_eq!(currency_decimals(code), 2, "{code}");
        }
    }

    #[test]
    fn parses_and_prints_decimal_strings() {
        for (text, shown) in [
            ("12.5", "12.50"),
            ("0.125", "0.125"),
            ("-3", "-3.0"),
            ("100.00", "100.0"),
        ] {
            assert_eq!(Amount::parse(text).unwrap().to_string(), shown);
        }
        assert!(Amount::parse("1.2345").is_err());
        assert!(Amount::parse("abc").is_err());
        assert!(Amount::parse("").is_err());
    }

    /// `Amount::parse` as it was before it read the text in one pass.
    fn parse_before(text: &str) -> Option<Amount> {
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && frac.is_empty()
            || frac.len() > 3
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number = |digits: &str| {
            digits.bytes().try_fold(0i64, |value, digit| {
                value.checked_mul(10)?.checked_add(i64::from(digit - b'0'))
            })
        };
        let whole = number(whole)?;
        let mut frac_value = number(frac)?;
        for _ in frac.len()..3 {
            frac_value *= 10;
        }
        let value = whole.checked_mul(SCALE)?.checked_add(frac_value)?;
        Some(Amount(if negative { -value } else { value }))
    }

    proptest::proptest! {
        #[test]
        fn parse_takes_what_it_took_before(text in "[ -]?-?[0-9]{0,20}[.]?[0-9.]{0,5}[ a]?") {
            proptest::prop_assert_eq!(Amount::parse(&text).ok(), parse_before(&text));
        }

        #[test]
        fn parse_takes_any_text_as_before(text in "\\PC{0,12}") {
            proptest::prop_assert_eq!(Amount::parse(&text).ok(), parse_before(&text));
        }
    }

    #[test]
    fn amounts_at_the_limits_parse_or_fail_cleanly() {
        assert_eq!(Amount::parse("9223372036854775.807"), Ok(Amount(i64::MAX)));
        assert_eq!(
            Amount::parse("-9223372036854775.807"),
            Ok(Amount(-i64::MAX))
        );
        for text in [
            "9223372036854775.808",
            "9223372036854776",
            "9223372036854775807",
            "99999999999999999999",
            "-",
            ".",
            "-.",
            "1.2.3",
        ] {
            assert!(Amount::parse(text).is_err(), "{text}");
        }
        assert_eq!(Amount::parse(" -.5 "), Ok(Amount(-500)));
        assert_eq!(Amount::parse("007."), Ok(Amount(7000)));
    }

    #[test]
    fn percent_rounds_to_the_currency_minor_unit() {
        let total = Amount::parse("99.99").unwrap();
        assert_eq!(total.percent(10.0, "EUR").to_string(), "10.0");
        assert_eq!(
            Amount::parse("999")
                .unwrap()
                .percent(15.0, "JPY")
                .to_string(),
            "150.0"
        );
    }
}
