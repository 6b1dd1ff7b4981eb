//! `kpl::deaggregate` must never panic, whatever bytes a Kinesis producer sends, and
//! whatever it accepts must aggregate back to the same bytes' records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use rheo_aws::kpl;
use rheo_aws::limits::KPL_SUB_RECORDS_MAX;

fuzz_target!(|data: &[u8]| {
    let _ = kpl::deaggregate(data);
    // Random input almost never carries a valid MD5, so also wrap it in a correct magic and
    // digest to drive the protobuf decoder and index checks, not only the checksum test.
    let wrapped = [&kpl::MAGIC[..], data, &Md5::digest(data)].concat();
    if let Ok(subs) = kpl::deaggregate(&wrapped) {
        assert!(subs.len() <= KPL_SUB_RECORDS_MAX);
        // The encoder's output of what was decoded decodes to the same records.
        assert_eq!(kpl::deaggregate(&kpl::aggregate(&subs)).ok(), Some(subs));
    }
});
