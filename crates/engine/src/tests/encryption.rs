//! Start/StopStreamEncryption: the `KeyId` resolves in the key store (an unknown one
//! changes nothing), the storage stream gets the key's number, DescribeStream keeps the
//! `KeyId` as given.

use super::*;

fn encryption(stream: &StreamRef, key_id: &str) -> StreamEncryption {
    StreamEncryption { stream: stream.clone(), encryption_type: "KMS".into(), key_id: key_id.into() }
}

/// The key number the storage stream seals new records with.
fn sealing_key(engine: &Engine, name: &str) -> Option<u32> {
    engine.log().streams().into_iter().find(|meta| meta.name == name).and_then(|meta| meta.props.encryption_key)
}

fn keys(engine: &Engine) -> Arc<rheo_keys::KeyStore> {
    engine.config().keys.clone().unwrap()
}

#[tokio::test]
async fn an_unknown_key_id_is_not_found_and_changes_nothing() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    for key_id in
        ["alias/nope", "00000000-0000-4000-8000-000000000000", "arn:aws:kms:eu-west-1:000000000000:alias/aws/kinesis"]
    {
        let error = h.engine.start_stream_encryption(&encryption(&stream, key_id)).await.unwrap_err();
        assert!(matches!(&error, EngineError::Key(key) if key.is_not_found()), "{key_id}: {error:?}");
    }
    assert_eq!(sealing_key(&h.engine, "s"), None);
    assert_eq!(h.engine.describe_stream_summary(&stream).unwrap().encryption_key_id, None);
}

#[tokio::test]
async fn start_sets_the_sealing_key_and_stop_clears_it() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    let kinesis = keys(&h.engine).resolve(rheo_keys::KINESIS_ALIAS).unwrap();
    let alias_arn = "arn:aws:kms:us-east-1:000000000000:alias/aws/kinesis";
    h.engine.start_stream_encryption(&encryption(&stream, alias_arn)).await.unwrap();
    assert_eq!(sealing_key(&h.engine, "s"), Some(kinesis.number));
    assert_eq!(h.engine.describe_stream_summary(&stream).unwrap().encryption_key_id.as_deref(), Some(alias_arn));

    let mine = keys(&h.engine).create(Some("alias/mine")).unwrap();
    h.engine.start_stream_encryption(&encryption(&stream, &mine.id.to_string())).await.unwrap();
    assert_eq!(sealing_key(&h.engine, "s"), Some(mine.number));

    h.engine.stop_stream_encryption(&encryption(&stream, &mine.id.to_string())).await.unwrap();
    assert_eq!(sealing_key(&h.engine, "s"), None);
    assert_eq!(h.engine.describe_stream_summary(&stream).unwrap().encryption_key_id, None);
}

/// The key store as the log sees it, remembering which version it last sealed with.
#[derive(Debug)]
struct Watched {
    keys: Arc<rheo_keys::KeyStore>,
    last_sealed: parking_lot::Mutex<Option<rheo_storage::KeyRef>>,
}

impl rheo_storage::KeyProvider for Watched {
    fn current(&self, key: u32) -> Option<(rheo_storage::KeyRef, rheo_storage::KeyBytes)> {
        let current = self.keys.current(key);
        *self.last_sealed.lock() = current.map(|(key_ref, _)| key_ref);
        current
    }

    fn get(&self, key: rheo_storage::KeyRef) -> Option<rheo_storage::KeyBytes> {
        self.keys.get(key)
    }
}

#[tokio::test]
async fn after_a_rotation_new_records_are_sealed_with_the_new_version_and_old_ones_read() {
    let scope = rheo_keys::Scope { region: "us-east-1".into(), account: "000000000000".into() };
    let keys = Arc::new(rheo_keys::KeyStore::in_memory(scope, Arc::new(rheo_storage::OsRandom)).unwrap());
    let watched = Arc::new(Watched { keys: keys.clone(), last_sealed: parking_lot::Mutex::new(None) });
    let fs = MemFs::default();
    let clock = ManualClock::new(START_MS);
    let log_config = LogConfig { durability: Durability::Never, keys: Some(watched.clone()), ..Default::default() };
    let config = EngineConfig { keys: Some(keys.clone()), ..config() };
    let engine =
        Engine::open(Arc::new(fs.clone()), Arc::new(clock.clone()), "/data".as_ref(), log_config, config).unwrap();
    let stream = create(&engine, "s", 1).await;
    engine.start_stream_encryption(&encryption(&stream, rheo_keys::KINESIS_ALIAS)).await.unwrap();
    let kinesis = keys.resolve(rheo_keys::KINESIS_ALIAS).unwrap().number;
    let put = |data: &'static str| {
        let request =
            PutRecord { stream: stream.clone(), record: entry("k", data), sequence_number_for_ordering: None };
        let engine = &engine;
        async move { engine.put_record(request).await.unwrap() }
    };
    put("before").await;
    assert_eq!(*watched.last_sealed.lock(), Some(rheo_storage::KeyRef { key: kinesis, version: 1 }));
    keys.rotate(rheo_keys::KINESIS_ALIAS).unwrap();
    put("after").await;
    assert_eq!(*watched.last_sealed.lock(), Some(rheo_storage::KeyRef { key: kinesis, version: 2 }));
    let iterator = iterator(&engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon);
    let read = engine.get_records(&GetRecords { shard_iterator: iterator, ..Default::default() }).unwrap();
    let data: Vec<&[u8]> = read.records.iter().map(|r| r.data.as_ref()).collect();
    assert_eq!(data, [b"before".as_slice(), b"after".as_slice()]);
}
