//! Arbitrary bytes as a CBOR request body of every operation: decoding must never panic,
//! and whatever decodes must re-encode to a body that decodes to the same request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_protocol::{decode_request, encode_request, Operation, WireFormat};

fuzz_target!(|body: &[u8]| {
    for operation in Operation::ALL {
        if let Ok(request) = decode_request(*operation, WireFormat::Cbor, body) {
            let cbor = encode_request(&request, WireFormat::Cbor);
            assert_eq!(
                decode_request(*operation, WireFormat::Cbor, &cbor),
                Ok(request)
            );
        }
    }
});
