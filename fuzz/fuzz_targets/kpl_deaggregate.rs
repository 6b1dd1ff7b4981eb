//! `kpl::deaggregate` must never panic, whatever bytes a Kinesis producer sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use rheo_firehose::kpl;

fuzz_target!(|data: &[u8]| {
    let _ = kpl::deaggregate(data);
    // Random input almost never carries a valid MD5, so also wrap it in a correct magic and
    // digest to drive the protobuf decoder and index checks, not only the checksum test.
    let wrapped = [&kpl::MAGIC[..], data, &Md5::digest(data)].concat();
    if let Ok(subs) = kpl::deaggregate(&wrapped) {
        assert!(subs.len() <= kpl::MAX_SUB_RECORDS);
    }
});
