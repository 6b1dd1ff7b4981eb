//! Sequence numbers that look and sort like AWS's.
//!
//! AWS sequence numbers are decimal renderings of a 188-bit value whose hexadecimal form
//! (47 digits) reads, from the most significant digit:
//!
//! ```text
//! 2 TTTTTTTTT s QQQQQQQQQQQQQQQQ 00 UUUUUUUUU SSSSSSSS 2
//! │ │         │ │                │  │         │        └ version marker
//! │ │         │ │                │  │         └ shard index (32 bits)
//! │ │         │ │                │  └ record arrival, epoch seconds (36 bits)
//! │ │         │ │                └ reserved byte
//! │ │         │ └ sequence counter (63 bits; top bit clear)
//! │ │         └ last hex digit of the shard index
//! │ └ shard creation, epoch seconds (36 bits)
//! └ version marker
//! ```
//!
//! The counter Rheo stores is the log sequence number (LSN) of the shared commit log: it
//! is global, so it is strictly increasing within every shard and never reused. Because
//! the creation time and shard digit are fixed for a shard and precede the counter, the
//! decimal values of one shard sort exactly as their LSNs do.
//!
//! A *resume point* is a number that is no record's: the LSN of the last record delivered
//! with the largest arrival field ([`RESUME_POINT_ARRIVAL_SECS`]). It sorts after that
//! record (same fields up to the LSN, larger arrival) and before any later record of the
//! shard (larger LSN), and keeps the shard's fields, so it is a valid
//! `StartingSequenceNumber` of the shard. Both `AT_SEQUENCE_NUMBER` and
//! `AFTER_SEQUENCE_NUMBER` at it mean "after that LSN": SubscribeToShard's
//! `ContinuationSequenceNumber` is one (issue 14, item 11).

use std::fmt;

/// The fields of a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SequenceNumber {
    /// Creation time of the shard, epoch seconds.
    pub shard_created_secs: u64,
    /// The shard's index (the number in `shardId-000000000007`).
    pub shard_index: u32,
    /// The log sequence number (at most [`crate::limits::LSN_MAX`]).
    pub lsn: u64,
    /// Arrival time of the record, epoch seconds.
    pub arrival_secs: u64,
}

/// Why a decimal string is not a sequence number Rheo issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceNumberError {
    /// Not a decimal number, or larger than 188 bits.
    #[error("not a decimal number of at most 188 bits")]
    NotANumber,
    /// A number, but not in the layout Rheo (and AWS, version 2) uses.
    #[error("unsupported sequence number layout")]
    UnknownLayout,
}

const SECS_MASK: u64 = (1 << 36) - 1;

/// The arrival field of a resume point: the field's maximum (year 4147), which no
/// record's arrival reaches.
pub const RESUME_POINT_ARRIVAL_SECS: u64 = SECS_MASK;

/// 192-bit unsigned integer as six 32-bit limbs, least significant first. Only the
/// conversions to and from decimal are needed, so this is all the arithmetic there is.
type Limbs = [u32; 6];

impl SequenceNumber {
    fn to_limbs(self) -> Limbs {
        // Assemble the 47 hex digits as a bit string, most significant first.
        let fields: [(u64, u32); 9] = [
            (2, 4),
            (self.shard_created_secs & SECS_MASK, 36),
            (u64::from(self.shard_index & 0xF), 4),
            (self.lsn & crate::limits::LSN_MAX, 64),
            (0, 8),
            (self.arrival_secs & SECS_MASK, 36),
            (u64::from(self.shard_index), 32),
            (2, 4),
            (0, 0),
        ];
        // Shift each field in from the right: (acc << width) | value over three 64-bit
        // words. Every GetRecords record formats one of these, so no bit-by-bit loop.
        let mut words = [0u64; 3];
        for (value, width) in fields {
            match width {
                0 => {}
                64 => words = [value, words[0], words[1]],
                _ => {
                    let value = value & ((1u64 << width) - 1);
                    words[2] = (words[2] << width) | (words[1] >> (64 - width));
                    words[1] = (words[1] << width) | (words[0] >> (64 - width));
                    words[0] = (words[0] << width) | value;
                }
            }
        }
        let mut limbs = [0u32; 6];
        for (i, word) in words.iter().enumerate() {
            limbs[2 * i] = *word as u32;
            limbs[2 * i + 1] = (*word >> 32) as u32;
        }
        limbs
    }

    fn from_limbs(limbs: &Limbs) -> Result<Self, SequenceNumberError> {
        let mut bit = 188u32;
        let mut take = |width: u32| -> u64 {
            let mut value = 0u64;
            for _ in 0..width {
                bit -= 1;
                value = (value << 1) | u64::from((limbs[(bit / 32) as usize] >> (bit % 32)) & 1);
            }
            value
        };
        let leading = take(4);
        let shard_created_secs = take(36);
        let shard_digit = take(4);
        let lsn = take(64);
        let reserved = take(8);
        let arrival_secs = take(36);
        let shard_index = take(32);
        let trailing = take(4);
        // The top 4 bits of the 192-bit space must be empty.
        if limbs[5] >> 28 != 0 || leading != 2 || trailing != 2 || reserved != 0 {
            return Err(SequenceNumberError::UnknownLayout);
        }
        if lsn > crate::limits::LSN_MAX || shard_digit != shard_index & 0xF {
            return Err(SequenceNumberError::UnknownLayout);
        }
        Ok(SequenceNumber { shard_created_secs, shard_index: shard_index as u32, lsn, arrival_secs })
    }

    /// The resume point after the record `lsn` of a shard (see the module doc).
    pub fn resume_after(shard_created_secs: u64, shard_index: u32, lsn: u64) -> Self {
        SequenceNumber { shard_created_secs, shard_index, lsn, arrival_secs: RESUME_POINT_ARRIVAL_SECS }
    }

    /// Whether this is a resume point, which starts a reader after its LSN whether it is
    /// used with `AT_SEQUENCE_NUMBER` or `AFTER_SEQUENCE_NUMBER`.
    pub fn is_resume_point(&self) -> bool {
        self.arrival_secs == RESUME_POINT_ARRIVAL_SECS
    }

    /// Parses the decimal form.
    pub fn parse(text: &str) -> Result<Self, SequenceNumberError> {
        Self::from_limbs(&parse_decimal(text)?)
    }
}

/// The hexadecimal digits (lower case, no leading zeros, `0` for zero) of a decimal number
/// of at most 192 bits. AWS's sequence-number layouts are defined on these digits, and the
/// engine reads layouts it never issues (older versions, other shards) through them.
pub fn hex_digits(decimal: &str) -> Result<String, SequenceNumberError> {
    let limbs = parse_decimal(decimal)?;
    let mut hex = String::with_capacity(48);
    for limb in limbs.iter().rev() {
        hex.push_str(&format!("{limb:08x}"));
    }
    let significant = hex.trim_start_matches('0');
    Ok(if significant.is_empty() { "0".to_owned() } else { significant.to_owned() })
}

/// The decimal form of at most 48 hexadecimal digits (the inverse of [`hex_digits`]);
/// `None` for anything else.
pub fn decimal_from_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || hex.len() > 48 {
        return None;
    }
    let mut limbs: Limbs = [0; 6];
    for (position, digit) in hex.bytes().rev().enumerate() {
        let value = char::from(digit).to_digit(16)?;
        limbs[position / 8] |= value << (4 * (position % 8));
    }
    let mut digits = [0u8; DECIMAL_DIGITS_MAX];
    let start = format_decimal(limbs, &mut digits);
    std::str::from_utf8(&digits[start..]).ok().map(str::to_owned)
}

fn parse_decimal(text: &str) -> Result<Limbs, SequenceNumberError> {
    if text.is_empty() || text.len() > 60 {
        return Err(SequenceNumberError::NotANumber);
    }
    let mut limbs: Limbs = [0; 6];
    for c in text.bytes() {
        if !c.is_ascii_digit() {
            return Err(SequenceNumberError::NotANumber);
        }
        let mut carry = u64::from(c - b'0');
        for limb in limbs.iter_mut() {
            let value = u64::from(*limb) * 10 + carry;
            *limb = value as u32;
            carry = value >> 32;
        }
        if carry != 0 {
            return Err(SequenceNumberError::NotANumber);
        }
    }
    Ok(limbs)
}

/// Most decimal digits of a 192-bit number.
const DECIMAL_DIGITS_MAX: usize = 58;

/// Writes the decimal form into `out` (right-aligned) and returns where it starts.
/// GetRecords formats one sequence number per record, so this avoids allocating.
fn format_decimal(mut limbs: Limbs, out: &mut [u8; DECIMAL_DIGITS_MAX]) -> usize {
    // Divide by 10^8 repeatedly; each remainder is eight decimal digits, written two at a
    // time from a table. Every GetRecords and PutRecords record formats one of these, so
    // the high limbs that have become zero are skipped rather than divided again.
    const CHUNK: u64 = 100_000_000;
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut top = limbs.iter().rposition(|l| *l != 0).map_or(0, |i| i + 1);
    let mut start = out.len();
    loop {
        let mut remainder = 0u64;
        for limb in limbs[..top].iter_mut().rev() {
            let value = (remainder << 32) | u64::from(*limb);
            *limb = (value / CHUNK) as u32;
            remainder = value % CHUNK;
        }
        while top > 0 && limbs[top - 1] == 0 {
            top -= 1;
        }
        let last = top == 0;
        for _ in 0..4 {
            let pair = (remainder % 100) as usize * 2;
            remainder /= 100;
            start -= 2;
            out[start] = PAIRS[pair];
            out[start + 1] = PAIRS[pair + 1];
            if last && remainder == 0 {
                break;
            }
        }
        if last {
            // The last chunk may have written one leading zero of its pair.
            if out[start] == b'0' && start + 1 < out.len() {
                start += 1;
            }
            return start;
        }
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; DECIMAL_DIGITS_MAX];
        let start = format_decimal(self.to_limbs(), &mut digits);
        // Only ASCII digits were written.
        f.write_str(std::str::from_utf8(&digits[start..]).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_aws_documentation_example() {
        // From the AWS documentation; decoded by hand: shard created 2014-09-22T16:39:41Z,
        // counter 5501, arrival 2014-09-23T00:13:40Z, shard 0.
        let seq = SequenceNumber::parse("49543463076548007577105092703039560359975228518395019266").unwrap();
        assert_eq!(seq.shard_index, 0);
        assert_eq!(seq.shard_created_secs, 1_411_403_981);
        assert_eq!(seq.lsn, 5501);
        assert_eq!(seq.arrival_secs, 1_411_431_220);
        assert_eq!(seq.to_string(), "49543463076548007577105092703039560359975228518395019266");
    }

    #[test]
    fn hex_digits_of_the_aws_documentation_example() {
        // The layout's fields are visible in the hex form: version 2, created 0x0542050cd,
        // shard digit 0, counter 0x157d, reserved 00, arrival 0x05420bb34, shard 0, version 2.
        let hex = hex_digits("49543463076548007577105092703039560359975228518395019266").unwrap();
        assert_eq!(hex, "20542050cd0000000000000157d0005420bb34000000002");
        assert_eq!(decimal_from_hex(&hex).as_deref(), Some("49543463076548007577105092703039560359975228518395019266"));
        assert_eq!(hex_digits("0").unwrap(), "0");
        assert_eq!(hex_digits("x"), Err(SequenceNumberError::NotANumber));
        assert_eq!(decimal_from_hex("0").as_deref(), Some("0"));
        assert_eq!(decimal_from_hex("g"), None);
        assert_eq!(decimal_from_hex(&"f".repeat(49)), None);
    }

    #[test]
    fn rejects_foreign_layouts_and_garbage() {
        assert_eq!(SequenceNumber::parse(""), Err(SequenceNumberError::NotANumber));
        assert_eq!(SequenceNumber::parse("12a"), Err(SequenceNumberError::NotANumber));
        assert_eq!(SequenceNumber::parse("1"), Err(SequenceNumberError::UnknownLayout));
        assert_eq!(SequenceNumber::parse(&"9".repeat(60)), Err(SequenceNumberError::NotANumber));
    }

    #[test]
    fn a_resume_point_round_trips_and_is_no_record() {
        let resume = SequenceNumber::resume_after(1_700_000_000, 7, 42);
        let parsed = SequenceNumber::parse(&resume.to_string()).unwrap();
        assert_eq!(parsed, resume);
        assert!(parsed.is_resume_point());
        let record =
            SequenceNumber { shard_created_secs: 1_700_000_000, shard_index: 7, lsn: 42, arrival_secs: 1_700_000_100 };
        assert!(!record.is_resume_point());
    }

    proptest! {
        #[test]
        fn a_resume_point_sorts_between_its_record_and_the_next(created in 1_400_000_000u64..2_000_000_000, index in any::<u32>(),
                                                               lsn in 0..crate::limits::LSN_MAX, later in 1u64..1_000_000,
                                                               arrival in 1_400_000_000u64..4_000_000_000, next_arrival in 1_400_000_000u64..4_000_000_000) {
            let key = |s: SequenceNumber| { let t = s.to_string(); (t.len(), t) };
            let record = SequenceNumber { shard_created_secs: created, shard_index: index, lsn, arrival_secs: arrival };
            let next = SequenceNumber { lsn: (lsn + later).min(crate::limits::LSN_MAX), arrival_secs: next_arrival, ..record };
            let resume = SequenceNumber::resume_after(created, index, lsn);
            prop_assert!(key(record) < key(resume));
            prop_assert!(key(resume) < key(next));
            prop_assert_eq!(SequenceNumber::parse(&resume.to_string()).unwrap().shard_index, index);
        }

        #[test]
        fn round_trips(created in 0u64..(1 << 36), index in any::<u32>(), lsn in 0..=crate::limits::LSN_MAX, arrival in 0u64..(1 << 36)) {
            let seq = SequenceNumber { shard_created_secs: created, shard_index: index, lsn, arrival_secs: arrival };
            let text = seq.to_string();
            // A leading hex digit of 2 always yields 56 decimal digits, as AWS shows.
            prop_assert_eq!(text.len(), 56);
            prop_assert_eq!(SequenceNumber::parse(&text).unwrap(), seq);
        }

        #[test]
        fn sorts_like_the_lsn_within_a_shard(created in 1_400_000_000u64..2_000_000_000, index in 0u32..100_000,
                                             a in 0..=crate::limits::LSN_MAX, b in 0..=crate::limits::LSN_MAX,
                                             ta in 1_400_000_000u64..2_000_000_000, tb in 1_400_000_000u64..2_000_000_000) {
            let sa = SequenceNumber { shard_created_secs: created, shard_index: index, lsn: a, arrival_secs: ta }.to_string();
            let sb = SequenceNumber { shard_created_secs: created, shard_index: index, lsn: b, arrival_secs: tb }.to_string();
            // Equal-length decimal strings compare like the numbers they denote.
            let order = (sa.len(), sa.as_str()).cmp(&(sb.len(), sb.as_str()));
            if a != b { prop_assert_eq!(order, a.cmp(&b)); }
        }

        #[test]
        fn hex_and_decimal_forms_round_trip(hex in "[1-9a-f][0-9a-f]{0,46}") {
            let decimal = decimal_from_hex(&hex).unwrap();
            prop_assert_eq!(hex_digits(&decimal).unwrap(), hex);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = SequenceNumber::parse(&text);
        }
    }
}
