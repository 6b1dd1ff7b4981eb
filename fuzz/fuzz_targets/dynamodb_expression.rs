//! Arbitrary text as each of DynamoDB's expression languages (condition, update,
//! projection, key condition): the parsers must never panic, and what they accept must
//! evaluate or apply without panicking, within the paths it names.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rheo_dynamodb::expr::{parse_key_condition, Condition, ExpressionKind, Projection, Substitutions, Update};
use rheo_dynamodb::key::{KeyAttr, KeySchema, KeyType};
use rheo_dynamodb::value::{AttrValue, Item, Number};

fn substitutions() -> Substitutions {
    let names: BTreeMap<String, String> =
        [("#a", "a"), ("#b", "b"), ("#k", "key")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let values: Item = [
        (":n", AttrValue::N(Number::from_u64(3))),
        (":s", AttrValue::S("x".into())),
        (":l", AttrValue::L(vec![AttrValue::Null])),
        (":ss", AttrValue::Ss(vec!["x".into()])),
        (":t", AttrValue::S("S".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Substitutions::new(names, values)
}

fn sample_item() -> Item {
    let mut item = Item::new();
    item.insert("a".into(), AttrValue::N(Number::from_u64(1)));
    item.insert("b".into(), AttrValue::L(vec![AttrValue::S("x".into()), AttrValue::M(BTreeMap::new())]));
    item.insert("key".into(), AttrValue::S("k".into()));
    item
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut subs = substitutions();
    if let Ok(condition) = Condition::parse(text, ExpressionKind::Condition, &mut subs) {
        assert!(condition.eval(&sample_item()).is_ok());
    }
    if let Ok(update) = Update::parse(text, &mut subs) {
        let mut item = sample_item();
        if update.apply(&mut item).is_ok() {
            let names = update.top_level_names();
            assert!(!names.is_empty());
            assert!(update.updated_parts(&item).keys().all(|name| names.contains(&name.as_str())));
        }
    }
    if let Ok(projection) = Projection::parse(text, &mut subs) {
        let tops: Vec<&str> = projection.paths().iter().map(|path| path.top()).collect();
        assert!(projection.apply(&sample_item()).keys().all(|name| tops.contains(&name.as_str())));
    }
    let schema = KeySchema {
        hash: KeyAttr { name: "key".into(), ty: KeyType::S },
        range: Some(KeyAttr { name: "a".into(), ty: KeyType::N }),
    };
    let _ = parse_key_condition(text, &schema, &mut subs);
    let _ = subs.finish();
});
