//! `CredentialsFile::parse` must never panic, whatever a credentials file holds, and what
//! it accepts must render to a file that parses back to the same profiles.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_aws::credentials_file::{CredentialsFile, CREDENTIALS_PROFILES_MAX};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = CredentialsFile::parse(text) {
        assert!(file.profiles.len() <= CREDENTIALS_PROFILES_MAX);
        assert_eq!(CredentialsFile::parse(&file.render()).as_ref(), Ok(&file));
    }
});
