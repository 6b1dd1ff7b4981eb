//! Helpers for testing shapes through the codec directly, before their operations have a
//! row in the operation table: the request path (parse, type check, validation) and the
//! response path in both formats.

use std::fmt::Debug;

use crate::codec::{decode_output, decode_structure, encode_structure, Body};
use crate::error::DecodeError;
use crate::operation::WireFormat;
use crate::wire::WireStruct;

/// Decodes a JSON request body as `T`, as the server will once the operation is routed.
pub(crate) fn decode_json<T: WireStruct>(body: &str) -> Result<T, DecodeError> {
    decode_structure(WireFormat::Json, Body::Borrowed(body.as_bytes()))
}

/// The `ValidationException` message for a JSON request body that must fail validation.
pub(crate) fn validation_message<T: WireStruct + Debug>(body: &str) -> String {
    match decode_json::<T>(body) {
        Err(DecodeError::Validation(message)) => message,
        other => panic!("expected a ValidationException for {body}, got {other:?}"),
    }
}

/// Encodes `value` in both formats and checks that it decodes to itself: as a response
/// (types only) and, when `as_request`, through validation too. Returns the JSON bytes so
/// callers can pin the wire form.
pub(crate) fn round_trip<T: WireStruct + PartialEq + Debug>(value: &T, as_request: bool) -> String {
    for format in [WireFormat::Json, WireFormat::Cbor] {
        let encoded = encode_structure(value, format);
        let decoded: T = decode_output(format, Body::Borrowed(&encoded))
            .unwrap_or_else(|error| panic!("{format:?} output of {value:?}: {error:?}"));
        assert_eq!(&decoded, value, "{format:?} output round trip");
        if as_request {
            let decoded: T = decode_structure(format, Body::Borrowed(&encoded))
                .unwrap_or_else(|error| panic!("{format:?} request of {value:?}: {error:?}"));
            assert_eq!(&decoded, value, "{format:?} request round trip");
        }
    }
    String::from_utf8(encode_structure(value, WireFormat::Json)).unwrap_or_default()
}
