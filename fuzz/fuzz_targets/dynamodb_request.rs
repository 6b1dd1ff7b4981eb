//! Arbitrary bytes as a DynamoDB JSON 1.0 request body of every operation: decoding must
//! never panic, and whatever decodes must re-encode to a body that decodes to the same
//! request. Bytes that parse as JSON are also read as one attribute value, which must not
//! panic either, and a value that reads must survive its own wire form unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_dynamodb::value::AttrValue;
use rheo_protocol::dynamodb::{decode_request, encode_request, DynamoDbOperation};

fuzz_target!(|body: &[u8]| {
    for operation in DynamoDbOperation::ALL {
        if let Ok(request) = decode_request(*operation, body) {
            let json = encode_request(&request);
            assert_eq!(decode_request(*operation, &json), Ok(request));
        }
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Ok(value) = AttrValue::from_json(&json) {
            assert_eq!(AttrValue::from_json(&value.to_json()).ok(), Some(value));
        }
    }
});
