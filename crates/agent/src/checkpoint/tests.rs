use super::*;

fn sample() -> Checkpoints {
    let mut c = Checkpoints::default();
    c.flows.insert(
        "kinesis:s:/x/*.log".into(),
        vec![FileCheckpoint {
            path: "/x/a.log".into(),
            id: FileId { dev: 3, ino: 99 },
            fingerprint: Some(Fingerprint { len: 12, crc: 0xdead_beef }),
            offset: 4096,
        }],
    );
    c
}

#[test]
fn round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/checkpoints");
    assert_eq!(load(&path).unwrap(), Checkpoints::default(), "a missing file is a first start");
    store(&path, &sample()).unwrap();
    assert_eq!(load(&path).unwrap(), sample());
    let mut next = sample();
    next.flows.clear();
    store(&path, &next).unwrap();
    assert_eq!(load(&path).unwrap(), next);
    assert_eq!(std::fs::read_dir(dir.path().join("sub")).unwrap().count(), 1, "no temporary file is left");
}

#[test]
fn every_damaged_byte_is_detected() {
    let bytes = encode(&sample());
    for i in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x01;
        assert!(decode(&damaged).is_err(), "flipping byte {i} went unnoticed");
    }
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "a file cut at {len} went unnoticed");
    }
}

#[test]
fn foreign_and_future_files_are_refused_with_the_reason() {
    assert!(decode(b"{\"flows\":{}}").unwrap_err().contains("header"));
    assert!(decode(b"something-else 1 2 00000000\n{}").unwrap_err().contains("not a rheo agent"));
    let body = b"{\"flows\":{}}";
    let future = format!("rheo-agent-checkpoints 2 {} {:08x}\n", body.len(), crc32c::crc32c(body));
    assert!(decode(&[future.as_bytes(), body].concat()).unwrap_err().contains("version"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoints");
    std::fs::write(&path, b"garbage").unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert!(message.contains("damaged") && message.contains("move it away"), "{message}");
}
