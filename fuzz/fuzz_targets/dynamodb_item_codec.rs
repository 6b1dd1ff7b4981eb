//! Arbitrary bytes as a stored DynamoDB item record: the store decodes records from a
//! disk that may hold anything, so decoding must never panic, and whatever decodes must
//! come back unchanged through the encoder.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_dynamodb::store::codec::{decode_item, encode_item};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(item) = decode_item(bytes) {
        let again = decode_item(&encode_item(&item)).expect("an encoded item decodes");
        assert_eq!(again, item);
    }
});
