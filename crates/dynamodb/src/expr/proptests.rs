//! Property tests: the parsers never panic, numbers against an i128 reference, boolean
//! operators against Rust's own, and update invariants.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::value::{AttrValue, Number};

fn substitutions() -> Substitutions {
    let names = [("#a", "a"), ("#b", "b"), ("#k", "key")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let values = [
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

/// Text from the expression languages' own tokens, so the parsers get past the lexer.
fn expression_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a",
        "b",
        "#a",
        "#b",
        "#k",
        "#zz",
        ":n",
        ":s",
        ":l",
        ":ss",
        ":t",
        ":zz",
        "(",
        ")",
        "[",
        "]",
        "0",
        "7",
        ",",
        ".",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size",
        "contains",
        "begins_with",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "if_not_exists",
        "list_append",
        "name",
        "@",
        "é",
    ]);
    prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.join(" "))
}

/// Parses `text` in every language and uses what parses; nothing may panic.
fn exercise(text: &str) {
    let mut subs = substitutions();
    if let Ok(condition) = Condition::parse(text, ExpressionKind::Condition, &mut subs) {
        let _ = condition.eval(&sample_item());
        let _ = condition.top_level_names();
    }
    if let Ok(update) = Update::parse(text, &mut subs) {
        let mut item = sample_item();
        let _ = update.apply(&mut item);
        let _ = update.updated_parts(&item);
    }
    if let Ok(projection) = Projection::parse(text, &mut subs) {
        let _ = projection.apply(&sample_item());
    }
    let schema = crate::key::KeySchema {
        hash: crate::key::KeyAttr { name: "key".into(), ty: crate::key::KeyType::S },
        range: Some(crate::key::KeyAttr { name: "a".into(), ty: crate::key::KeyType::N }),
    };
    let _ = parse_key_condition(text, &schema, &mut subs);
    let _ = subs.finish();
}

/// `m × 10^-k` as DynamoDB number text, and its value in units of 10^-12.
fn decimal() -> impl Strategy<Value = (String, i128)> {
    (any::<i64>(), 0u32..=12, any::<bool>()).prop_map(|(mantissa, scale, exponent_form)| {
        let text = if exponent_form {
            format!("{mantissa}E-{scale}")
        } else {
            let digits = mantissa.unsigned_abs().to_string();
            let padded = format!("{digits:0>width$}", width = scale as usize + 1);
            let (integer, fraction) = padded.split_at(padded.len() - scale as usize);
            let sign = if mantissa < 0 { "-" } else { "" };
            if fraction.is_empty() {
                format!("{sign}{integer}")
            } else {
                format!("{sign}{integer}.{fraction}")
            }
        };
        (text, i128::from(mantissa) * 10i128.pow(12 - scale))
    })
}

/// A boolean formula over attributes `p0`…`p3`, each true or false on the test item.
#[derive(Clone, Debug)]
enum Formula {
    Atom(usize),
    Not(Box<Formula>),
    And(Box<Formula>, Box<Formula>),
    Or(Box<Formula>, Box<Formula>),
}

fn formula() -> impl Strategy<Value = Formula> {
    (0usize..4).prop_map(Formula::Atom).prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Formula::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Formula::Or(Box::new(a), Box::new(b))),
        ]
    })
}

impl Formula {
    fn truth(&self, atoms: &[bool; 4]) -> bool {
        match self {
            Formula::Atom(index) => atoms[*index],
            Formula::Not(inner) => !inner.truth(atoms),
            Formula::And(a, b) => a.truth(atoms) && b.truth(atoms),
            Formula::Or(a, b) => a.truth(atoms) || b.truth(atoms),
        }
    }

    /// Written with parentheses only where DynamoDB's precedence (NOT > AND > OR) needs
    /// them, so parsing must apply that precedence to get the same truth.
    fn text(&self, parent: u8) -> String {
        let (precedence, text) = match self {
            Formula::Atom(index) => (4, format!("p{index} = :t")),
            Formula::Not(inner) => (3, format!("NOT {}", inner.text(3))),
            Formula::And(a, b) => (2, format!("{} AND {}", a.text(2), b.text(3))),
            Formula::Or(a, b) => (1, format!("{} or {}", a.text(1), b.text(2))),
        };
        if precedence < parent {
            format!("({text})")
        } else {
            text
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_any_text(text in ".{0,80}") {
        exercise(&text);
    }

    #[test]
    fn parsers_never_panic_on_token_soup(text in expression_text()) {
        exercise(&text);
    }

    #[test]
    fn numbers_print_canonically_and_reparse((text, _) in decimal()) {
        let number = Number::parse(&text).unwrap();
        let printed = number.to_string();
        prop_assert!(!printed.contains(['e', 'E', '+']));
        prop_assert!(!printed.starts_with("-0") || printed.starts_with("-0."));
        prop_assert_eq!(Number::parse(&printed).unwrap(), number);
    }

    #[test]
    fn numbers_order_and_add_like_integers((a, a_units) in decimal(), (b, b_units) in decimal()) {
        let (x, y) = (Number::parse(&a).unwrap(), Number::parse(&b).unwrap());
        prop_assert_eq!(x.cmp(&y), a_units.cmp(&b_units));
        prop_assert_eq!(x == y, a_units == b_units);
        let reference = |units: i128| {
            let scaled = units.unsigned_abs();
            let text = format!("{}{}E-12", if units < 0 { "-" } else { "" }, scaled);
            Number::parse(&text).unwrap()
        };
        prop_assert_eq!(x.checked_add(&y).unwrap(), reference(a_units + b_units));
        prop_assert_eq!(x.checked_sub(&y).unwrap(), reference(a_units - b_units));
    }

    #[test]
    fn boolean_operators_match_a_reference(formula in formula(), atoms in any::<[bool; 4]>()) {
        let mut item = Item::new();
        for (index, truth) in atoms.iter().enumerate() {
            item.insert(format!("p{index}"), AttrValue::Bool(*truth));
        }
        let values = [(":t".to_string(), AttrValue::Bool(true))].into_iter().collect();
        let mut subs = Substitutions::new(BTreeMap::new(), values);
        let text = formula.text(0);
        let condition = Condition::parse(&text, ExpressionKind::Filter, &mut subs).unwrap();
        prop_assert_eq!(condition.eval(&item).unwrap(), formula.truth(&atoms), "{}", text);
    }

    #[test]
    fn add_then_delete_restores_the_set(
        start in prop::collection::btree_set("[a-c]{1,3}", 0..6),
        extra in prop::collection::btree_set("[d-f]{1,3}", 1..6),
    ) {
        let as_set = |members: &std::collections::BTreeSet<String>| AttrValue::Ss(members.iter().cloned().collect());
        let values = [(":e".to_string(), as_set(&extra))].into_iter().collect();
        let mut subs = Substitutions::new(BTreeMap::new(), values);
        let add = Update::parse("ADD s :e", &mut subs).unwrap();
        let delete = Update::parse("DELETE s :e", &mut subs).unwrap();
        let mut item = Item::new();
        if !start.is_empty() {
            item.insert("s".into(), as_set(&start));
        }
        let before = item.clone();
        add.apply(&mut item).unwrap();
        let AttrValue::Ss(grown) = &item["s"] else { panic!("ADD made no string set") };
        prop_assert_eq!(grown.len(), start.len() + extra.len());
        delete.apply(&mut item).unwrap();
        prop_assert_eq!(item, before);
    }
}
