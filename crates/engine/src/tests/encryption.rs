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
