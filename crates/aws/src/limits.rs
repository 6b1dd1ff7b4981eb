//! Every bound this crate enforces on untrusted input, in one place.

/// Largest event-stream message encoded or decoded, prelude and CRCs included. AWS caps
/// a SubscribeToShard event at 16 MiB of payload; Rheo's largest event is one record at the
/// stream's maximum size (10 MiB), about 13.4 MiB once base64-encoded in JSON, so this leaves
/// room while refusing a hostile length prefix before buffering it.
pub const EVENT_STREAM_MESSAGE_BYTES_MAX: usize = 24 << 20;

/// Longest event-stream header name: its length travels in one byte.
pub const EVENT_STREAM_HEADER_NAME_BYTES_MAX: usize = 255;

/// Longest string or byte-array header value. The length field is a u16, but the
/// protocol (and the AWS SDKs, CRT, Java and Go) limit it to `i16::MAX`.
pub const EVENT_STREAM_HEADER_VALUE_BYTES_MAX: usize = i16::MAX as usize;

/// Most sub-records accepted in one KPL aggregate. Counted on the wire before decoding, so
/// a hostile record of millions of two-byte empty sub-records cannot make the decoder
/// allocate hundreds of megabytes. A 10 MiB Kinesis record of realistic sub-records stays
/// far below it.
pub const KPL_SUB_RECORDS_MAX: usize = 1_000_000;

/// Most headers a SigV4 signature may cover. Real clients sign five to ten; the bound keeps
/// a hostile `SignedHeaders` list from costing more than a bounded parse.
pub const SIGV4_SIGNED_HEADERS_MAX: usize = 64;

/// Longest `Authorization` header (or presigned query) accepted for parsing.
pub const SIGV4_AUTHORIZATION_BYTES_MAX: usize = 4096;
