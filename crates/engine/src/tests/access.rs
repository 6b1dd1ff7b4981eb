//! What authorization looks up: resource policies (validated when put), tags, the stream
//! of an iterator, a consumer by name.

use std::collections::BTreeMap;

use super::*;
use crate::ResourceAccess;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/bob"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;

#[tokio::test]
async fn a_streams_policy_and_tags_are_looked_up_by_arn() {
    let h = harness();
    let stream = create(&h.engine, "orders", 1).await;
    let arn = h.engine.account().stream_arn("orders").into_string();
    assert_eq!(h.engine.resource_access(&arn), Some(ResourceAccess::default()));
    h.engine
        .add_tags_to_stream(AddTagsToStream { stream, tags: BTreeMap::from([("team".into(), "a".into())]) })
        .await
        .unwrap();
    h.engine.put_resource_policy(PutResourcePolicy { resource_arn: arn.clone(), policy: POLICY.into() }).await.unwrap();
    let access = h.engine.resource_access(&arn).unwrap();
    assert_eq!(access.policy.as_deref(), Some(POLICY));
    assert_eq!(access.tags, BTreeMap::from([("team".to_owned(), "a".to_owned())]));
    assert_eq!(h.engine.resource_access(&h.engine.account().stream_arn("absent").into_string()), None);
    assert_eq!(h.engine.resource_access("*"), None);
}

#[tokio::test]
async fn a_policy_that_does_not_parse_is_refused_and_nothing_is_stored() {
    let h = harness();
    create(&h.engine, "orders", 1).await;
    let arn = h.engine.account().stream_arn("orders").into_string();
    // A resource policy's statements must name a principal.
    let without_principal =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}"#;
    let bad_action = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"GetRecords","Resource":"*"}]}"#;
    for policy in [without_principal, bad_action] {
        let error = h
            .engine
            .put_resource_policy(PutResourcePolicy { resource_arn: arn.clone(), policy: policy.into() })
            .await
            .unwrap_err();
        assert!(matches!(error, EngineError::InvalidArgument(InvalidArgument::PolicyInvalid { .. })), "{error:?}");
    }
    assert_eq!(h.engine.get_resource_policy(&arn).unwrap(), "{}");
}

#[tokio::test]
async fn an_iterator_names_its_stream_and_a_consumer_is_found_by_name() {
    let h = harness();
    let stream = create(&h.engine, "orders", 1).await;
    let token = iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::Latest);
    let stream_arn = h.engine.account().stream_arn("orders");
    assert_eq!(h.engine.iterator_stream_arn(&token), Some(stream_arn.clone()));
    assert_eq!(h.engine.iterator_stream_arn("not an iterator"), None);
    let consumer = h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: stream_arn.as_str().into(),
            consumer_name: "reader".into(),
            tags: BTreeMap::new(),
        })
        .await
        .unwrap();
    assert_eq!(h.engine.consumer_arn_by_name(stream_arn.as_str(), "reader"), Some(consumer.arn));
    assert_eq!(h.engine.consumer_arn_by_name(stream_arn.as_str(), "other"), None);
}
