//! Arbitrary bytes as a Kinesis Analytics JSON request body of every operation: decoding
//! must never panic, and whatever decodes must re-encode to a body that decodes to the
//! same request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_protocol::analytics::{decode_request, encode_request, AnalyticsOperation};

fuzz_target!(|body: &[u8]| {
    for operation in AnalyticsOperation::ALL {
        if let Ok(request) = decode_request(*operation, body) {
            let json = encode_request(&request);
            assert_eq!(decode_request(*operation, &json), Ok(request));
        }
    }
});
