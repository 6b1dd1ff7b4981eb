//! Arbitrary bytes as a key file: the server and `rheo keys` read it from a disk that may
//! hold anything (a truncated copy, another file), so decoding must never panic, only
//! refuse.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = rheo_keys::check_key_file(bytes);
});
