//! DynamoDB numbers: exact decimals of up to 38 significant digits, magnitude from 1E-130
//! to below 1E+126, held in one normalized form so equal numbers are equal values.
//!
//! Rules and texts: AWS's "Supported data types and naming rules" (range, precision) and
//! DynamoDB's ValidationException messages as its clients report them.

use std::cmp::Ordering;
use std::fmt;

use crate::error::DynamoError;
use crate::limits::NUMBER_DIGITS_MAX;

/// Largest exponent `e` of `0.d… × 10^e`: every such number is below 1E+126.
const EXPONENT_MAX: i32 = 126;
/// Smallest exponent `e` of `0.d… × 10^e`: every such number is at least 1E-130.
const EXPONENT_MIN: i32 = -129;

/// DynamoDB's text for number text it cannot read.
pub const NOT_A_NUMBER: &str = "A value provided cannot be converted into a number";
/// DynamoDB's text for an empty number.
const EMPTY_NUMBER: &str = "The parameter cannot be converted to a numeric value";
/// DynamoDB's text for a number above the range.
pub const OVERFLOW: &str = "Number overflow. Attempting to store a number with magnitude larger than supported range";
/// DynamoDB's text for a non-zero number below the range.
pub const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";
/// DynamoDB's text for a number with more than 38 significant digits.
pub const TOO_PRECISE: &str = "Attempting to store more than 38 significant digits in a Number";

/// A DynamoDB number: up to [`NUMBER_DIGITS_MAX`] significant decimal digits, magnitude
/// from 1E-130 to below 1E+126, exact.
///
/// Normalized, so equal numbers have equal representations (`1`, `1.0` and `10E-1` are one
/// value) and `Eq`/`Hash` are numeric: the value is `±0.d₁d₂…dₙ × 10^exponent`, `digits`
/// holds `d₁…dₙ` (each 0–9) with no leading or trailing zero, and zero has no digits, is
/// not negative and has exponent 0. The store's order-preserving key encoding reads these
/// parts (`negative`, `digits`, `exponent`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i32,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { negative: false, digits: Vec::new(), exponent: 0 }
    }

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The significant digits, each 0–9, without leading or trailing zeros; empty for zero.
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    /// The exponent `e` of `0.d₁d₂… × 10^e`.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The number with these parts, if they are normalized (see the type's doc): how the
    /// store rebuilds numbers it encoded from [`is_negative`](Self::is_negative),
    /// [`digits`](Self::digits) and [`exponent`](Self::exponent).
    pub fn from_parts(negative: bool, digits: Vec<u8>, exponent: i32) -> Option<Number> {
        let normalized = match (digits.first(), digits.last()) {
            (None, _) | (_, None) => !negative && exponent == 0,
            (Some(&first), Some(&last)) => first != 0 && last != 0 && digits.iter().all(|&digit| digit <= 9),
        };
        normalized.then_some(Number { negative, digits, exponent })
    }

    /// A whole number (sizes, counts); always in range.
    pub fn from_u64(value: u64) -> Number {
        let digits: Vec<u8> = value.to_string().bytes().map(|byte| byte - b'0').collect();
        let exponent = digits.len() as i32;
        Number::normalized(false, digits, exponent)
    }

    /// Parses DynamoDB's number syntax (`-12.5`, `1e3`, `.5`, leading zeros, `+`), with
    /// DynamoDB's errors for malformed, too precise or out-of-range numbers.
    pub fn parse(text: &str) -> Result<Number, DynamoError> {
        if text.is_empty() {
            return Err(DynamoError::Validation(EMPTY_NUMBER.into()));
        }
        let invalid = || DynamoError::Validation(NOT_A_NUMBER.into());
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut negative = false;
        if let Some(&sign) = bytes.first() {
            if sign == b'+' || sign == b'-' {
                negative = sign == b'-';
                at = 1;
            }
        }
        // The mantissa's digits as written (leading zeros included) and how many of them
        // stand before the decimal point.
        let mut mantissa = Vec::new();
        let mut integer_len = None;
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b'0'..=b'9' => mantissa.push(byte - b'0'),
                b'.' if integer_len.is_none() => integer_len = Some(mantissa.len()),
                _ => break,
            }
            at += 1;
        }
        if mantissa.is_empty() {
            return Err(invalid());
        }
        let integer_len = integer_len.unwrap_or(mantissa.len());
        let mut written_exponent: i64 = 0;
        if let Some(&marker) = bytes.get(at) {
            if marker != b'e' && marker != b'E' {
                return Err(invalid());
            }
            at += 1;
            let mut exponent_negative = false;
            if let Some(&sign) = bytes.get(at) {
                if sign == b'+' || sign == b'-' {
                    exponent_negative = sign == b'-';
                    at += 1;
                }
            }
            let exponent_digits = &bytes[at..];
            if exponent_digits.is_empty() || !exponent_digits.iter().all(u8::is_ascii_digit) {
                return Err(invalid());
            }
            for &digit in exponent_digits {
                // Saturating: an exponent this large is out of range whatever its digits.
                written_exponent = written_exponent.saturating_mul(10).saturating_add(i64::from(digit - b'0'));
            }
            if exponent_negative {
                written_exponent = -written_exponent;
            }
        }
        let leading_zeros = mantissa.iter().take_while(|&&digit| digit == 0).count();
        let significant = &mantissa[leading_zeros..];
        let trailing_zeros = significant.iter().rev().take_while(|&&digit| digit == 0).count();
        let significant = &significant[..significant.len() - trailing_zeros];
        if significant.is_empty() {
            return Ok(Number::zero());
        }
        if significant.len() > NUMBER_DIGITS_MAX {
            return Err(DynamoError::Validation(TOO_PRECISE.into()));
        }
        // 0.d₁… × 10^e where e counts the integer digits after the leading zeros.
        let exponent = written_exponent.saturating_add(integer_len as i64 - leading_zeros as i64);
        Number::in_range(negative, significant.to_vec(), exponent)
    }

    /// Checks the range of `±0.digits × 10^exponent` (digits already normalized).
    fn in_range(negative: bool, digits: Vec<u8>, exponent: i64) -> Result<Number, DynamoError> {
        if exponent > i64::from(EXPONENT_MAX) {
            return Err(DynamoError::Validation(OVERFLOW.into()));
        }
        if exponent < i64::from(EXPONENT_MIN) {
            return Err(DynamoError::Validation(UNDERFLOW.into()));
        }
        // In range, so the exponent fits an i32.
        Ok(Number { negative, digits, exponent: exponent as i32 })
    }

    /// Trims leading and trailing zeros of `digits` (value `±0.digits × 10^exponent`).
    fn normalized(negative: bool, mut digits: Vec<u8>, mut exponent: i32) -> Number {
        let leading = digits.iter().take_while(|&&digit| digit == 0).count();
        digits.drain(..leading);
        exponent -= leading as i32;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Number::zero();
        }
        Number { negative, digits, exponent }
    }

    /// The negated number.
    pub fn negated(&self) -> Number {
        let mut number = self.clone();
        number.negative = !number.negative && !number.is_zero();
        number
    }

    /// `self + other`, exactly, with DynamoDB's errors when the sum leaves the range or
    /// needs more than 38 significant digits.
    pub fn checked_add(&self, other: &Number) -> Result<Number, DynamoError> {
        if other.is_zero() {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Ok(other.clone());
        }
        // Both as integers scaled to the smaller last-digit exponent: value = int × 10^low.
        let low = self.last_digit_exponent().min(other.last_digit_exponent());
        let left = self.scaled_to(low);
        let right = other.scaled_to(low);
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&left, &right))
        } else {
            match compare_magnitudes(&left, &right) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.negative, subtract_magnitudes(&left, &right)),
                Ordering::Less => (other.negative, subtract_magnitudes(&right, &left)),
            }
        };
        // magnitude (most significant first) × 10^low = 0.magnitude × 10^(low + len).
        let exponent = i64::from(low) + magnitude.len() as i64;
        let leading = magnitude.iter().take_while(|&&digit| digit == 0).count();
        let mut digits = magnitude[leading..].to_vec();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let exponent = exponent - leading as i64;
        if exponent > i64::from(EXPONENT_MAX) {
            return Err(DynamoError::Validation(OVERFLOW.into()));
        }
        if digits.len() > NUMBER_DIGITS_MAX {
            return Err(DynamoError::Validation(TOO_PRECISE.into()));
        }
        Number::in_range(negative, digits, exponent)
    }

    /// `self - other`, exactly, with the errors of [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, DynamoError> {
        self.checked_add(&other.negated())
    }

    /// The exponent of the last significant digit's place.
    fn last_digit_exponent(&self) -> i32 {
        self.exponent - self.digits.len() as i32
    }

    /// The digits of |self| as an integer in units of 10^low (low ≤ last digit's place).
    fn scaled_to(&self, low: i32) -> Vec<u8> {
        let zeros = (self.last_digit_exponent() - low) as usize;
        let mut scaled = self.digits.clone();
        scaled.extend(std::iter::repeat_n(0, zeros));
        scaled
    }
}

/// Compares two integers given as most-significant-first digits without leading zeros.
fn compare_magnitudes(left: &[u8], right: &[u8]) -> Ordering {
    left.len().cmp(&right.len()).then_with(|| left.cmp(right))
}

fn add_magnitudes(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut sum = Vec::with_capacity(left.len().max(right.len()) + 1);
    let mut carry = 0;
    let mut left_digits = left.iter().rev();
    let mut right_digits = right.iter().rev();
    loop {
        let (a, b) = (left_digits.next(), right_digits.next());
        if a.is_none() && b.is_none() {
            break;
        }
        let total = a.copied().unwrap_or(0) + b.copied().unwrap_or(0) + carry;
        sum.push(total % 10);
        carry = total / 10;
    }
    if carry > 0 {
        sum.push(carry);
    }
    sum.reverse();
    sum
}

/// `left - right` for `left ≥ right`.
fn subtract_magnitudes(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut difference = Vec::with_capacity(left.len());
    let mut borrow = 0i8;
    let mut right_digits = right.iter().rev();
    for &digit in left.iter().rev() {
        let mut value = digit as i8 - borrow - right_digits.next().copied().unwrap_or(0) as i8;
        borrow = 0;
        if value < 0 {
            value += 10;
            borrow = 1;
        }
        difference.push(value as u8);
    }
    difference.reverse();
    difference
}

/// The canonical text DynamoDB returns: plain decimal, no exponent (`1E+2` is written
/// `100`, `0.50` is `0.5`, `-0` is `0`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut text = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            text.push('-');
        }
        let digit_char = |digit: &u8| char::from(b'0' + digit);
        let length = self.digits.len() as i32;
        if self.exponent >= length {
            text.extend(self.digits.iter().map(digit_char));
            text.extend(std::iter::repeat_n('0', (self.exponent - length) as usize));
        } else if self.exponent > 0 {
            let (integer, fraction) = self.digits.split_at(self.exponent as usize);
            text.extend(integer.iter().map(digit_char));
            text.push('.');
            text.extend(fraction.iter().map(digit_char));
        } else {
            text.push_str("0.");
            text.extend(std::iter::repeat_n('0', (-self.exponent) as usize));
            text.extend(self.digits.iter().map(digit_char));
        }
        f.write_str(&text)
    }
}

/// Numeric order.
impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |number: &Number| -> i8 {
            if number.is_zero() {
                0
            } else if number.negative {
                -1
            } else {
                1
            }
        };
        let (left_sign, right_sign) = (sign(self), sign(other));
        if left_sign != right_sign || left_sign == 0 {
            return left_sign.cmp(&right_sign);
        }
        // Same sign, both non-zero: larger exponent is larger magnitude; with equal
        // exponents the digit strings compare lexicographically (a prefix is smaller).
        let magnitude = self.exponent.cmp(&other.exponent).then_with(|| self.digits.cmp(&other.digits));
        if left_sign < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    fn error(text: &str) -> String {
        Number::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_prints_canonical_text() {
        for (input, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("+0.000", "0"),
            ("00042", "42"),
            ("1.0", "1"),
            ("0.50", "0.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1E+2", "100"),
            ("1.5E2", "150"),
            ("-12.5e-3", "-0.0125"),
            ("123.456", "123.456"),
            ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
            ("1000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000"),
        ] {
            assert_eq!(number(input).to_string(), canonical, "{input}");
        }
        assert_eq!(number("1E-130").to_string(), format!("0.{}1", "0".repeat(129)));
        assert_eq!(
            number("9.9999999999999999999999999999999999999E+125").to_string(),
            format!("{}{}", "9".repeat(38), "0".repeat(88))
        );
    }

    #[test]
    fn refuses_malformed_numbers_with_dynamodb_texts() {
        for input in ["abc", "1e", "1e+", "--1", "1.2.3", ".", "-", "1 ", " 1", "1x", "e5", "Infinity", "NaN", "0x10"] {
            assert_eq!(error(input), NOT_A_NUMBER, "{input:?}");
        }
        assert_eq!(error(""), EMPTY_NUMBER);
        assert_eq!(error("123456789012345678901234567890123456789"), TOO_PRECISE);
        assert_eq!(error("1E126"), OVERFLOW);
        assert_eq!(error("-1E+126"), OVERFLOW);
        assert_eq!(error("1E99999999999999999999999"), OVERFLOW);
        assert_eq!(error("9.9E-131"), UNDERFLOW);
        assert_eq!(number("0E99999").to_string(), "0");
    }

    #[test]
    fn equal_numbers_have_one_representation() {
        assert_eq!(number("1"), number("1.000"));
        assert_eq!(number("1"), number("10E-1"));
        assert_eq!(number("-0"), Number::zero());
        assert_eq!(Number::from_u64(1200), number("1.2e3"));
        assert_eq!(Number::from_u64(0), Number::zero());
    }

    #[test]
    fn rebuilds_from_normalized_parts_only() {
        let n = number("-12.5e3");
        assert_eq!(Number::from_parts(n.is_negative(), n.digits().to_vec(), n.exponent()), Some(n));
        assert_eq!(Number::from_parts(false, Vec::new(), 0), Some(Number::zero()));
        assert_eq!(Number::from_parts(true, Vec::new(), 0), None);
        assert_eq!(Number::from_parts(false, vec![1, 0], 2), None);
        assert_eq!(Number::from_parts(false, vec![0, 1], 2), None);
        assert_eq!(Number::from_parts(false, vec![10], 2), None);
    }

    #[test]
    fn orders_numerically() {
        let ascending = [
            "-1E125", "-100", "-99.5", "-1", "-0.001", "0", "0.001", "0.01", "0.1", "1", "1.5", "2", "10", "99", "100",
            "1E125",
        ];
        for pair in ascending.windows(2) {
            assert!(number(pair[0]) < number(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(number(pair[1]) > number(pair[0]));
        }
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        let sum = |a: &str, b: &str| number(a).checked_add(&number(b)).map(|n| n.to_string());
        assert_eq!(sum("1", "2").unwrap(), "3");
        assert_eq!(sum("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(sum("99", "1").unwrap(), "100");
        assert_eq!(sum("-5", "3").unwrap(), "-2");
        assert_eq!(sum("5", "-5").unwrap(), "0");
        assert_eq!(sum("1E20", "1E-10").unwrap(), "100000000000000000000.0000000001");
        assert_eq!(number("1").checked_sub(&number("0.001")).unwrap().to_string(), "0.999");
        assert_eq!(number("-1").checked_sub(&number("-1")).unwrap(), Number::zero());
        // AWS's example (ExtendDB issue 94, observed on DynamoDB): the sum overflows.
        assert_eq!(sum("9.9999999999999999999999999999999999999E+125", "1E+125").unwrap_err().to_string(), OVERFLOW);
        assert_eq!(sum("1E+100", "1E-100").unwrap_err().to_string(), TOO_PRECISE);
    }
}
