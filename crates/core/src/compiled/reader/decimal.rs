//! Decimal text to the nearest `f64`, rounded as `str::parse::<f64>` rounds it (to nearest, ties
//! to even), for the numbers the reader's exact fast path leaves: an exponent, more digits than
//! an `f64` holds, or more than 22 of them after the point.
//!
//! Such numbers are rare in a compiled policy, so this favours size over speed: a few lines of
//! big-integer arithmetic (one long division) rather than std's float parser, whose code and
//! 10 kB table of powers of five were a tenth of the Function's Wasm module.

/// Significant digits kept. Every number halfway between two adjacent `f64`s has fewer (at
/// most 767), so a nonzero digit beyond them only decides which side of such a number the
/// value lies on: a `1` appended after the kept digits stands for all of them.
const MAX_DIGITS: usize = 800;

/// `text` in JSON's number grammar (`-?int(.frac)?([eE][+-]?digits)?`, as the reader checked
/// it). The result is infinite where the value is too large for an `f64`, and a zero of the
/// number's sign where it is too small.
pub(super) fn parse(text: &[u8]) -> f64 {
    let negative = text.first() == Some(&b'-');
    let sign = if negative { 1u64 << 63 } else { 0 };
    let (digits, scale) = significant_digits(text);
    // The value is `digits × 10^scale`, and `digits` has no leading or trailing zero.
    let Some(&_) = digits.first() else {
        return f64::from_bits(sign);
    };
    let count = digits.len() as i64;
    // At least 10^309, beyond f64::MAX (1.8e308).
    if count - 1 + scale >= 309 {
        return f64::from_bits(sign | f64::INFINITY.to_bits());
    }
    // Below 10^-325, less than half the smallest `f64` above zero (4.9e-324).
    if count + scale <= -325 {
        return f64::from_bits(sign);
    }
    let mut numerator = Big::from_digits(&digits);
    let mut denominator = Big::one();
    if scale >= 0 {
        numerator.mul_pow10(scale as u32);
    } else {
        denominator.mul_pow10(scale.unsigned_abs() as u32);
    }
    // Scale by 2^shift so that the quotient has 63 or 64 bits.
    let shift = 63 - (numerator.bits() as i64 - denominator.bits() as i64);
    if shift >= 0 {
        numerator.shl(shift as u32);
    } else {
        denominator.shl(shift.unsigned_abs() as u32);
    }
    let (quotient, inexact) = numerator.div(denominator);
    f64::from_bits(sign | round(quotient, -shift, inexact))
}

/// The significant digits (their values, without leading or trailing zeros; at most
/// `MAX_DIGITS` and a sticky `1`) and the power of ten they are scaled by.
fn significant_digits(text: &[u8]) -> (Vec<u8>, i64) {
    let mut digits: Vec<u8> = Vec::new();
    let mut scale: i64 = 0;
    let mut sticky = false;
    let mut after_point = false;
    let mut rest = text.iter();
    for &byte in rest.by_ref() {
        match byte {
            b'0'..=b'9' => {
                let digit = byte - b'0';
                if digits.len() < MAX_DIGITS && (digit != 0 || !digits.is_empty()) {
                    digits.push(digit);
                    scale -= i64::from(after_point);
                } else if digits.is_empty() {
                    // A leading zero: after the point, it moves the digits one place down.
                    scale -= i64::from(after_point);
                } else {
                    sticky |= digit != 0;
                    scale += i64::from(!after_point);
                }
            }
            b'.' => after_point = true,
            b'e' | b'E' => break,
            _ => {}
        }
    }
    // The exponent, saturated well past where every value is infinite or zero.
    let mut exponent: i64 = 0;
    let mut exponent_negative = false;
    for &byte in rest {
        match byte {
            b'-' => exponent_negative = true,
            b'0'..=b'9' => exponent = (exponent * 10 + i64::from(byte - b'0')).min(1 << 20),
            _ => {}
        }
    }
    scale += if exponent_negative {
        -exponent
    } else {
        exponent
    };
    if sticky {
        digits.push(1);
        scale -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
        scale += 1;
    }
    (digits, scale)
}

/// `quotient × 2^exponent` (`quotient` of 63 or 64 bits; `inexact` if the true value is a
/// little more) rounded to the nearest `f64`, ties to even: its bits, sign aside.
fn round(quotient: u64, exponent: i64, inexact: bool) -> u64 {
    let lead = quotient.leading_zeros();
    let quotient = quotient << lead;
    // Now `quotient` has 64 bits; the bits shifted in are zeros, and `inexact` still says
    // whether anything was left below them.
    let exponent = exponent - i64::from(lead);
    // Keep 53 bits, fewer for a subnormal: none below 2^-1074.
    let dropped = (-1074 - exponent).max(11);
    if dropped > 64 {
        // Less than 2^-1075, half the smallest subnormal.
        return 0;
    }
    let dropped = dropped as u32;
    let kept = quotient.checked_shr(dropped).unwrap_or(0);
    let half = 1u64 << (dropped - 1);
    let below = quotient & (half | (half - 1));
    let rounds_up = below > half || (below == half && (inexact || kept & 1 == 1));
    let mantissa = kept + u64::from(rounds_up);
    const HIDDEN: u64 = 1 << 52;
    if mantissa < HIDDEN {
        // A subnormal (its unit is 2^-1074).
        return mantissa;
    }
    // `mantissa` is in 2^52..=2^53 units of 2^(exponent + dropped); a carry into 2^53 moves
    // into the exponent field by itself.
    let biased = exponent + i64::from(dropped) + 1075;
    if biased >= 2047 {
        return f64::INFINITY.to_bits();
    }
    let bits = ((biased as u64) << 52) + (mantissa - HIDDEN);
    bits.min(f64::INFINITY.to_bits())
}

/// An unsigned integer, 32 bits per limb, least significant first, without high zero limbs.
struct Big(Vec<u32>);

impl Big {
    fn one() -> Big {
        Big(vec![1])
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut big = Big(Vec::with_capacity(digits.len() / 9 + 2));
        for chunk in digits.chunks(9) {
            let value = chunk.iter().fold(0u32, |v, &d| v * 10 + u32::from(d));
            big.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        big
    }

    fn mul_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut power: u32) {
        while power > 0 {
            let step = power.min(9);
            self.mul_add(10u32.pow(step), 0);
            power -= step;
        }
    }

    fn bits(&self) -> u32 {
        self.0
            .last()
            .map_or(0, |top| 32 * self.0.len() as u32 - top.leading_zeros())
    }

    fn shl(&mut self, bits: u32) {
        self.mul_add(1 << (bits % 32), 0);
        let mut shifted = vec![0; (bits / 32) as usize];
        shifted.extend_from_slice(&self.0);
        self.0 = shifted;
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn at_least(&self, other: &Big) -> bool {
        if self.0.len() != other.0.len() {
            return self.0.len() > other.0.len();
        }
        self.0.iter().rev().cmp(other.0.iter().rev()).is_ge()
    }

    /// `self -= other`, where `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = false;
        let mut theirs = other.0.iter();
        for limb in &mut self.0 {
            let (a, b) = limb.overflowing_sub(theirs.next().copied().unwrap_or(0));
            let (c, d) = a.overflowing_sub(u32::from(borrow));
            *limb = c;
            borrow = b || d;
        }
        self.trim();
    }

    /// `self / divisor` where the quotient is below 2^64, and whether a remainder was left:
    /// long division, a bit at a time, of `self × 2^64` by `divisor × 2^64`.
    fn div(mut self, mut divisor: Big) -> (u64, bool) {
        divisor.shl(64);
        let mut quotient = 0u64;
        for _ in 0..64 {
            self.mul_add(2, 0);
            quotient <<= 1;
            if self.at_least(&divisor) {
                self.sub(&divisor);
                quotient |= 1;
            }
        }
        (quotient, !self.0.is_empty())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code

    use super::parse;
    use proptest::prelude::*;

    fn check(text: &str) {
        let expected: f64 = text.parse().unwrap();
        let got = parse(text.as_bytes());
        assert_eq!(
            got.to_bits(),
            expected.to_bits(),
            "{text}: {got:e} vs {expected:e}"
        );
    }

    #[test]
    fn edge_cases_round_as_str_parse_does() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.0e5",
            "1",
            "-1",
            "1e0",
            "1e22",
            "1e23",
            "-1e23",
            "1.5e-7",
            "123456789012345678901234567890",
            "9007199254740993",
            "9007199254740995",
            "9007199254740993.0000000000000000000000001",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.797693134862315807e308",
            "1.7976931348623159e308",
            "1e309",
            "-1e400",
            "1e99999999999999999999999",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "2.2250738585072012e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "2.47032822920623272e-324",
            "1e-324",
            "-1e-400",
            "1e-99999999999999999999",
            "0.1",
            "0.30000000000000004",
            "00000000000000000000000000000000000000000000000000000000000000000.5e-1",
            "0.000000000000000000000000000000000000000000000000000000000000000000000001",
            "7.2057594037927933e16",
            "8.98846567431158e307",
            "4.4501477170144023e-308",
        ] {
            check(text);
        }
        // Long texts: more significant digits than are kept.
        let ones = "1".repeat(1200);
        check(&ones);
        check(&format!("0.{ones}"));
        check(&format!("{ones}e-1300"));
        check(&format!("9007199254740993{}", "0".repeat(900)));
        check(&format!("9007199254740993{}1e-900", "0".repeat(900)));
    }

    /// The exact decimal text of `mantissa × 2^exponent`.
    fn exact_decimal(mantissa: u64, exponent: i32) -> String {
        // Digits, least significant first; `scale` digits after the point.
        let mut digits: Vec<u32> = mantissa
            .to_string()
            .bytes()
            .rev()
            .map(|b| u32::from(b - b'0'))
            .collect();
        let multiply = |digits: &mut Vec<u32>, by: u32| {
            let mut carry = 0;
            for d in digits.iter_mut() {
                let v = *d * by + carry;
                *d = v % 10;
                carry = v / 10;
            }
            while carry > 0 {
                digits.push(carry % 10);
                carry /= 10;
            }
        };
        let mut scale = 0;
        if exponent >= 0 {
            for _ in 0..exponent {
                multiply(&mut digits, 2);
            }
        } else {
            // m / 2^k = m × 5^k / 10^k
            for _ in 0..-exponent {
                multiply(&mut digits, 5);
            }
            scale = -exponent;
        }
        let text: String = digits
            .iter()
            .rev()
            .map(|d| char::from(b'0' + *d as u8))
            .collect();
        format!("{text}e-{scale}")
    }

    /// Midpoints between adjacent `f64`s, and the numbers just either side of them.
    fn check_midpoint(bits: u64) {
        let x = f64::from_bits(bits);
        if !x.is_finite() || x < 0.0 {
            return;
        }
        let (mantissa, exponent) = if bits >> 52 == 0 {
            (bits & ((1 << 52) - 1), -1074)
        } else {
            (
                (bits & ((1 << 52) - 1)) | 1 << 52,
                (bits >> 52) as i32 - 1075,
            )
        };
        // (2m + 1) × 2^(e - 1): halfway to the next one up.
        let half = exact_decimal(2 * mantissa + 1, exponent - 1);
        check(&half);
        let (digits, scale) = half.split_once('e').unwrap();
        check(&format!("{digits}1e{}", scale.parse::<i64>().unwrap() - 1));
        if let Some(below) = digits.strip_suffix('5') {
            // Ten digits in place of the last one.
            check(&format!(
                "{below}4999999999e{}",
                scale.parse::<i64>().unwrap() - 9
            ));
        }
    }

    #[test]
    fn midpoints_round_as_str_parse_does() {
        for bits in [
            0u64,
            1,
            2,
            3,
            (1 << 52) - 1,
            1 << 52,
            (1 << 52) + 1,
            0x3ff0_0000_0000_0000,
            0x4340_0000_0000_0000,
            0x7fef_ffff_ffff_fffe,
            0x7fef_ffff_ffff_ffff,
        ] {
            check_midpoint(bits);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_decimals_round_as_str_parse_does(
            negative: bool,
            int in "[0-9]{1,30}",
            frac in proptest::option::of("[0-9]{1,30}"),
            exp in proptest::option::of(-400i32..400),
        ) {
            let mut text = String::new();
            if negative { text.push('-'); }
            text.push_str(&int);
            if let Some(frac) = frac { text.push('.'); text.push_str(&frac); }
            if let Some(exp) = exp { text.push_str(&format!("e{exp}")); }
            check(&text);
        }

        #[test]
        fn shortest_forms_round_trip(bits: u64) {
            let x = f64::from_bits(bits);
            if x.is_finite() {
                check(&format!("{x:e}"));
                check(&format!("{x:.25e}"));
            }
        }

        #[test]
        fn random_midpoints_round_as_str_parse_does(bits in 0u64..0x7ff0_0000_0000_0000) {
            check_midpoint(bits);
        }
    }
}
