//! Sequence numbers as AWS reads the ones it is given, which need not be numbers this
//! server issued: GetShardIterator decodes the shard a StartingSequenceNumber encodes
//! before it asks whether the number came from the stream, and PutRecord accepts a
//! SequenceNumberForOrdering in the layouts AWS accepts.
//!
//! The layouts are defined on the number's hexadecimal digits (1-based below). They were
//! reverse-engineered by kinesalite (`db/index.js`, `parseSequence`, whose tests were
//! recorded against AWS) and are pinned where they matter by the AWS recordings of
//! issue 14 (items 6 and 7):
//!
//! | layout | digits | fields |
//! | --- | --- | --- |
//! | version 0 | at most 32 (below 2^128) | 2–10 shard creation seconds, 29–32 shard index (the low 16 bits); a number below 2^124 reads as if 2^124 were added |
//! | version 1 | 47, `2…1` | 2–10 shard creation seconds, 14–22 arrival seconds, 39–46 shard index |
//! | version 2 | 47, `2…2` | 2–10 shard creation seconds, 11 last shard digit, 12–27 counter, 28–29 reserved, 30–38 arrival seconds, 39–46 shard index (what Rheo issues: `rheo_storage::seqno`) |

/// Shard-creation seconds from this value on make a number invalid: kinesalite's recording
/// of AWS for version 0 (`13bb2cc3d8…` is refused) and issue 14, item 7 for version 2.
const CREATION_SECS_LIMIT: u64 = 16_025_175_000;

/// Hex digits of the 47-digit layouts (versions 1 and 2).
const LONG_LAYOUT_DIGITS: usize = 47;
/// Hex digits of version 0, once normalized.
const SHORT_LAYOUT_DIGITS: usize = 32;

/// The fields of a sequence number that AWS's checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    Version0 {
        created_secs: u64,
        shard_index: u16,
        /// The number with its leading digit made `1`, as AWS quotes a version-0 number
        /// in "did not come from this stream" (kinesalite's recordings: `0` is quoted as
        /// 2^124).
        normalized: String,
    },
    Version1 {
        arrival_secs: u64,
    },
    Version2 {
        created_secs: u64,
        /// The counter's top bit, which AWS refuses (kinesalite: "8 in index").
        counter_high: bool,
        arrival_secs: u64,
        /// Digits 39–46 as an unsigned 32-bit value.
        shard_index: u32,
    },
}

/// Hex digits `first..=last` (1-based) as a number; the caller has checked the length.
fn field(hex: &str, first: usize, last: usize) -> u64 {
    hex.get(first - 1..last).and_then(|digits| u64::from_str_radix(digits, 16).ok()).unwrap_or(u64::MAX)
}

fn read(text: &str) -> Option<Layout> {
    let hex = rheo_storage::hex_digits(text).ok()?;
    if hex.len() <= SHORT_LAYOUT_DIGITS {
        let padded = format!("{hex:0>SHORT_LAYOUT_DIGITS$}");
        let normalized_hex = format!("1{}", padded.get(1..)?);
        return Some(Layout::Version0 {
            created_secs: field(&normalized_hex, 2, 10),
            shard_index: field(&normalized_hex, 29, 32) as u16,
            normalized: rheo_storage::decimal_from_hex(&normalized_hex)?,
        });
    }
    if hex.len() != LONG_LAYOUT_DIGITS || !hex.starts_with('2') {
        return None;
    }
    match hex.as_bytes().last() {
        Some(b'1') => Some(Layout::Version1 { arrival_secs: field(&hex, 14, 22) }),
        Some(b'2') => Some(Layout::Version2 {
            created_secs: field(&hex, 2, 10),
            counter_high: field(&hex, 12, 12) > 7,
            arrival_secs: field(&hex, 30, 38),
            shard_index: field(&hex, 39, 46) as u32,
        }),
        _ => None,
    }
}

/// What GetShardIterator makes of a StartingSequenceNumber before comparing it with the
/// requested shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartingSequence {
    /// Not a number AWS reads: "… is invalid."
    Invalid,
    /// A number that encodes `shard_index`; `quoted` is how AWS quotes it when it did not
    /// come from the stream.
    Encodes { shard_index: i64, quoted: String },
}

/// Reads a StartingSequenceNumber as GetShardIterator does.
///
/// A version-2 number's shard index is a signed 32-bit integer (issue 14, item 6: AWS
/// answers `It encodes shardId--02147483648` for digits `80000000`; kinesalite's older
/// recording refused such a number as invalid). Version-1 numbers stay invalid, as Rheo
/// has always answered: no recording shows what AWS does with them here.
pub(crate) fn starting_sequence(text: &str) -> StartingSequence {
    match read(text) {
        Some(Layout::Version0 { created_secs, shard_index, normalized }) if created_secs < CREATION_SECS_LIMIT => {
            StartingSequence::Encodes { shard_index: i64::from(shard_index), quoted: normalized }
        }
        Some(Layout::Version2 { counter_high: false, shard_index, .. }) => {
            StartingSequence::Encodes { shard_index: i64::from(shard_index as i32), quoted: text.to_owned() }
        }
        _ => StartingSequence::Invalid,
    }
}

/// Whether PutRecord accepts `text` as SequenceNumberForOrdering at `now_secs`.
///
/// Version 1 and version 2 are accepted unless their arrival time is in the future (one
/// second of clock skew allowed, as before). Version 2 is also refused for a creation
/// time of at least [`CREATION_SECS_LIMIT`] (issue 14, item 7), a counter with its top
/// bit set or a shard index at or above 2^31 (kinesalite's AWS recordings "8 in index"
/// and "8 near end"). Version 0 and every other number stay refused, as Rheo has always
/// answered: no recording shows AWS accepting them.
pub(crate) fn ordering_is_valid(text: &str, now_secs: u64) -> bool {
    let not_future = |arrival_secs: u64| arrival_secs <= now_secs.saturating_add(1);
    match read(text) {
        Some(Layout::Version1 { arrival_secs }) => not_future(arrival_secs),
        Some(Layout::Version2 { created_secs, counter_high, arrival_secs, shard_index }) => {
            created_secs < CREATION_SECS_LIMIT
                && !counter_high
                && i32::try_from(shard_index).is_ok()
                && not_future(arrival_secs)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decimal form of hex digits, for writing layouts readably.
    fn decimal(hex: &str) -> String {
        rheo_storage::decimal_from_hex(hex).unwrap()
    }

    const NOW_SECS: u64 = 1_700_000_000;

    #[test]
    fn version_0_numbers_encode_their_low_16_bits_and_are_quoted_normalized() {
        // kinesalite test/getShardIterator.js, recorded against AWS: `0` on shard 0 and
        // `425352958651173072921826052383309826` on shard 2 are quoted + 2^124.
        assert_eq!(
            starting_sequence("0"),
            StartingSequence::Encodes { shard_index: 0, quoted: "21267647932558653966460912964485513216".into() }
        );
        assert_eq!(
            starting_sequence("425352958651173072921826052383309826"),
            StartingSequence::Encodes { shard_index: 2, quoted: "21693000891209827039382739016868823042".into() }
        );
        // A 32-digit number keeps its low 16 bits and gets leading digit 1 (kinesalite: the
        // `f3bb2cc3d7ff…` recording).
        assert_eq!(
            starting_sequence(&decimal("f3bb2cc3d7ff7fffffffffffffff0000")),
            StartingSequence::Encodes { shard_index: 0, quoted: "26227199374821822965252748908982894592".into() }
        );
        assert_eq!(
            starting_sequence("5"),
            StartingSequence::Encodes { shard_index: 5, quoted: decimal("10000000000000000000000000000005") }
        );
        // The creation time limit (kinesalite: "sequence number with large date").
        assert_eq!(starting_sequence(&decimal("13bb2cc3d80000000000000000000000")), StartingSequence::Invalid);
        assert!(matches!(
            starting_sequence(&decimal("13bb2cc3d70000000000000000000000")),
            StartingSequence::Encodes { .. }
        ));
    }

    #[test]
    fn version_2_numbers_encode_a_signed_shard_index() {
        let issued = "49543463076548007577105092703039560359975228518395019266";
        assert_eq!(starting_sequence(issued), StartingSequence::Encodes { shard_index: 0, quoted: issued.into() });
        let fifth = decimal("20000000000000000000000000000000000000000000052");
        assert_eq!(starting_sequence(&fifth), StartingSequence::Encodes { shard_index: 5, quoted: fifth.clone() });
        let negative = decimal("20000000000000000000000000000000000000800000002");
        assert_eq!(
            starting_sequence(&negative),
            StartingSequence::Encodes { shard_index: -2_147_483_648, quoted: negative.clone() }
        );
        // The counter's top bit (kinesalite: "8 in index").
        assert_eq!(
            starting_sequence(&decimal("20000000000800000000000000000000000000000000002")),
            StartingSequence::Invalid
        );
    }

    #[test]
    fn other_layouts_are_invalid_starting_sequences() {
        for hex in [
            "20000000000000000000000000000000000000000000001",  // version 1
            "20000000000000000000000000000000000000000000003",  // no version 3
            "30000000000000000000000000000000000000000000002",  // leading 3
            "1ffffffffff7fffffffffffffff000000000007fffffff2",  // leading 1
            "200000000000000000000000000000000000000000000002", // 48 digits
            "100000000000000000000000000000000",                // 33 digits
        ] {
            assert_eq!(starting_sequence(&decimal(hex)), StartingSequence::Invalid, "{hex}");
        }
        assert_eq!(starting_sequence("1x"), StartingSequence::Invalid);
    }

    #[test]
    fn ordering_accepts_version_1_and_sound_version_2_numbers() {
        // kinesalite test/putRecord.js, recorded against AWS: all-zero version 1 and 2.
        assert!(ordering_is_valid(&decimal("20000000000000000000000000000000000000000000001"), NOW_SECS));
        assert!(ordering_is_valid(&decimal("20000000000000000000000000000000000000000000002"), NOW_SECS));
        assert!(ordering_is_valid("49543463076548007577105092703039560359975228518395019266", NOW_SECS));
        // Arrival now, and one second ahead (clock skew), are accepted; two ahead is not.
        let zeros = |count: usize| "0".repeat(count);
        // Digits 30-38 of version 2, 14-22 of version 1.
        let arrival = |secs: u64| decimal(&format!("2{}{secs:09x}{}2", zeros(28), zeros(8)));
        assert!(ordering_is_valid(&arrival(NOW_SECS + 1), NOW_SECS));
        assert!(!ordering_is_valid(&arrival(NOW_SECS + 2), NOW_SECS));
        let version_1_arrival = |secs: u64| decimal(&format!("2{}{secs:09x}{}1", zeros(12), zeros(24)));
        assert!(ordering_is_valid(&version_1_arrival(NOW_SECS), NOW_SECS));
        assert!(!ordering_is_valid(&version_1_arrival(NOW_SECS + 2), NOW_SECS));
    }

    #[test]
    fn ordering_refuses_what_aws_refuses() {
        // Digits 2-10.
        let created = |secs: u64| decimal(&format!("2{secs:09x}{}2", "0".repeat(36)));
        // Issue 14, item 7: creation seconds from 16025175000 on.
        assert!(!ordering_is_valid(&created(CREATION_SECS_LIMIT), NOW_SECS));
        assert!(ordering_is_valid(&created(CREATION_SECS_LIMIT - 1), NOW_SECS));
        assert!(!ordering_is_valid(&decimal("2ffffffffff7fffffffffffffff000000000007fffffff2"), NOW_SECS));
        for hex in [
            "20000000000800000000000000000000000000000000002", // counter top bit ("8 in index")
            "20000000000000000000000000000000000000800000002", // shard index top bit ("8 near end")
            "30000000000000000000000000000000000000000000001", // leading 3
            "1ffffffffff7fffffffffffffff000000000007fffffff2", // leading 1
            "13bb2cc3d80000000000000000000000",                // version 0, large date
            "c",                                               // version 0
        ] {
            assert!(!ordering_is_valid(&decimal(hex), NOW_SECS), "{hex}");
        }
        assert!(!ordering_is_valid("", NOW_SECS));
    }
}
