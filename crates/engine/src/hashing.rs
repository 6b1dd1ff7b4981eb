//! The hash-key space: partition keys to 128-bit hash keys, and uniform shard ranges.

use md5::{Digest, Md5};

/// The hash key of a partition key: MD5 of its UTF-8 bytes, read as a big-endian u128.
pub fn partition_key_hash(partition_key: &[u8]) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key).into())
}

/// Parses a decimal `ExplicitHashKey`; `None` when it is not a number below 2^128.
pub fn parse_hash_key(text: &str) -> Option<u128> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `floor(2^128 / count)`, the width AWS gives each of `count` uniform shards.
fn uniform_step(count: u32) -> Option<u128> {
    let count = u128::from(count);
    match count {
        0 | 1 => None,
        _ => {
            // 2^128 does not fit in u128: floor(2^128 / n) is floor((2^128 - 1) / n) plus one
            // exactly when n divides 2^128, i.e. when the remainder of 2^128 - 1 is n - 1.
            let quotient = u128::MAX / count;
            let remainder = u128::MAX % count;
            Some(if remainder == count - 1 { quotient + 1 } else { quotient })
        }
    }
}

/// The hash-key ranges of `count` uniform shards, as AWS assigns them at CreateStream:
/// shard i covers `[step·i, step·(i+1) − 1]` and the last one ends at 2^128 − 1.
pub fn uniform_ranges(count: u32) -> Vec<(u128, u128)> {
    let Some(step) = uniform_step(count) else {
        return vec![(0, u128::MAX)];
    };
    (0..count)
        .map(|i| {
            let start = step * u128::from(i);
            let end = if i + 1 == count { u128::MAX } else { step * u128::from(i + 1) - 1 };
            (start, end)
        })
        .collect()
}

/// The starting hash keys of shards 1..count of a uniform layout (the boundaries).
pub fn uniform_boundaries(count: u32) -> Vec<u128> {
    uniform_ranges(count).into_iter().skip(1).map(|(start, _)| start).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_is_read_big_endian() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_key_hash(b"a"), 0x0cc175b9c0f1b6a831c399e269772661u128);
    }

    #[test]
    fn three_shards_match_aws() {
        let ranges = uniform_ranges(3);
        assert_eq!(ranges[0].0, 0);
        assert_eq!(ranges[0].1, 113_427_455_640_312_821_154_458_202_477_256_070_484);
        assert_eq!(ranges[1].1, 226_854_911_280_625_642_308_916_404_954_512_140_969);
        assert_eq!(ranges[2].1, u128::MAX);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0);
        }
    }

    #[test]
    fn powers_of_two_split_evenly() {
        assert_eq!(uniform_ranges(1), vec![(0, u128::MAX)]);
        assert_eq!(uniform_ranges(2)[1].0, 1u128 << 127);
        assert_eq!(uniform_ranges(4)[3].0, 3u128 << 126);
        assert_eq!(uniform_boundaries(4), vec![1u128 << 126, 1u128 << 127, 3u128 << 126]);
    }

    #[test]
    fn explicit_hash_keys_parse_only_below_two_to_the_128() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(parse_hash_key("340282366920938463463374607431768211455"), Some(u128::MAX));
        assert_eq!(parse_hash_key("340282366920938463463374607431768211456"), None);
        assert_eq!(parse_hash_key("-1"), None);
        assert_eq!(parse_hash_key(""), None);
    }
}
