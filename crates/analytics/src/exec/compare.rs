//! Ordering and equality of SQL values, across numeric types (an INTEGER compares with a
//! DOUBLE or a DECIMAL by value, as SQL does). NULL is handled by the callers: these
//! functions see non-NULL values only and return an error for kinds that do not compare.

use std::cmp::Ordering;

use crate::functions;
use crate::value::{ErrorKind, EvalError, Value};

/// Orders two non-NULL values with the functions' SQL ordering (so `=` and NULLIF, MIN and
/// GREATEST agree); values of kinds that do not compare (a string and a number), which the
/// compiler's typing normally rules out, are an error row.
pub(crate) fn compare(left: &Value, right: &Value) -> Result<Ordering, EvalError> {
    functions::compare(left, right).ok_or_else(|| {
        EvalError::new(ErrorKind::Function, format!("cannot compare {} with {}", kind_name(left), kind_name(right)))
    })
}

/// A number as a double (for comparisons and arithmetic that involve a floating value).
pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Int(v) => Some(*v as f64),
        Value::Real(v) => Some(f64::from(*v)),
        Value::Double(v) => Some(*v),
        Value::Decimal(unscaled, scale) => Some(*unscaled as f64 / 10f64.powi(i32::from(*scale))),
        _ => None,
    }
}

/// `unscaled` at `from` digits after the point, written with `to >= from` digits.
pub(crate) fn rescale_up(unscaled: i128, from: u8, to: u8) -> Option<i128> {
    let factor = 10i128.checked_pow(u32::from(to.saturating_sub(from)))?;
    unscaled.checked_mul(factor)
}

/// The kind of a value, for error messages.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Int(_) => "an integer",
        Value::Real(_) => "REAL",
        Value::Double(_) => "DOUBLE",
        Value::Decimal(..) => "DECIMAL",
        Value::Str(_) => "a string",
        Value::Bin(_) => "VARBINARY",
        Value::Date(_) => "DATE",
        Value::Time(_) => "TIME",
        Value::Timestamp(_) => "TIMESTAMP",
        Value::Interval(_) => "an interval",
    }
}

/// Equality as GROUP BY sees it: NULLs group together, NaN equals NaN, and -0.0 equals
/// 0.0 (consistent with [`hash_key_value`]).
pub(crate) fn key_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Real(a), Value::Real(b)) => canonical_bits(f64::from(*a)) == canonical_bits(f64::from(*b)),
        (Value::Double(a), Value::Double(b)) => canonical_bits(*a) == canonical_bits(*b),
        _ => left == right,
    }
}

fn canonical_bits(value: f64) -> u64 {
    if value.is_nan() {
        f64::NAN.to_bits()
    } else if value == 0.0 {
        0
    } else {
        value.to_bits()
    }
}

/// A 64-bit multiplicative mix (the Fx hash's step) started from a secret per-stage seed
/// ([`random_hash_seed`]): fast, and, since group keys come from record data an outsider
/// may choose, not predictable, so keys cannot be crafted offline to share one hash and
/// turn the group table's chains into linear scans.
#[derive(Clone, Copy)]
pub(crate) struct KeyHash(u64);

const MULTIPLIER: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A seed for [`KeyHash`] from std's per-process random keys (the source `HashMap` uses
/// against the same attack), different for every call.
pub(crate) fn random_hash_seed() -> u64 {
    use std::hash::BuildHasher;
    std::hash::RandomState::new().hash_one(0x6b65_795f_7365_6564_u64)
}

impl KeyHash {
    pub(crate) fn new(seed: u64) -> Self {
        KeyHash(seed)
    }

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }

    fn add_bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail));
        self.add(bytes.len() as u64);
    }

    pub(crate) fn finish(self) -> u64 {
        // A final avalanche so the low bits the table uses depend on every input bit.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// Adds one group key value to a hash, consistently with [`key_eq`].
pub(crate) fn hash_key_value(hash: &mut KeyHash, value: &Value) {
    match value {
        Value::Null => hash.add(0),
        Value::Bool(v) => hash.add(1 + u64::from(*v)),
        Value::Int(v) | Value::Timestamp(v) | Value::Interval(v) => hash.add(*v as u64),
        Value::Real(v) => hash.add(canonical_bits(f64::from(*v))),
        Value::Double(v) => hash.add(canonical_bits(*v)),
        Value::Decimal(unscaled, scale) => {
            hash.add(*unscaled as u64);
            hash.add((*unscaled >> 64) as u64 ^ u64::from(*scale));
        }
        Value::Str(bytes) | Value::Bin(bytes) => hash.add_bytes(bytes),
        Value::Date(v) => hash.add(*v as u64),
        Value::Time(v) => hash.add(u64::from(*v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_across_types() {
        assert_eq!(compare(&Value::Int(2), &Value::Double(2.5)).ok(), Some(Ordering::Less));
        assert_eq!(compare(&Value::Decimal(250, 2), &Value::Int(2)).ok(), Some(Ordering::Greater));
        assert_eq!(compare(&Value::Decimal(2000, 3), &Value::Decimal(20, 1)).ok(), Some(Ordering::Equal));
        assert_eq!(compare(&Value::Real(1.5), &Value::Double(1.5)).ok(), Some(Ordering::Equal));
    }

    #[test]
    fn unlike_kinds_are_an_error() {
        assert!(compare(&Value::Int(1), &Value::Str("1".into())).is_err());
    }

    #[test]
    fn float_keys_group_zero_and_nan() {
        let seed = random_hash_seed();
        let hash = |value: &Value| {
            let mut h = KeyHash::new(seed);
            hash_key_value(&mut h, value);
            h.finish()
        };
        assert!(key_eq(&Value::Double(-0.0), &Value::Double(0.0)));
        assert_eq!(hash(&Value::Double(-0.0)), hash(&Value::Double(0.0)));
        assert!(key_eq(&Value::Double(f64::NAN), &Value::Double(f64::NAN)));
        assert_ne!(hash(&Value::Str("ab".into())), hash(&Value::Str("ba".into())));
    }

    #[test]
    fn key_hashes_depend_on_the_seed() {
        // An unseeded hash let keys be crafted offline to collide in every process.
        let (one, other) = (random_hash_seed(), random_hash_seed());
        assert_ne!(one, other);
        let hash = |seed, value: &Value| {
            let mut h = KeyHash::new(seed);
            hash_key_value(&mut h, value);
            h.finish()
        };
        for value in [Value::Int(0), Value::Str("referrer.example".into()), Value::Null] {
            assert_ne!(hash(one, &value), hash(other, &value), "{value:?}");
        }
    }
}
