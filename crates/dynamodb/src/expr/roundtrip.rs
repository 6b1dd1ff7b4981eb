//! Property tests that print random trees as expression text (every name a `#placeholder`,
//! every value a `:placeholder`) and check that parsing gives the same tree back.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::condition::{Comparator, Node, Operand};
use super::path::{Path, PathElement};
use super::update::{Action, Term};
use super::*;
use crate::value::{AttrValue, Number};

/// Collects placeholders while printing.
#[derive(Default)]
struct Printer {
    names: BTreeMap<String, String>,
    values: Item,
}

impl Printer {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: &AttrValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value.clone());
        placeholder
    }

    fn path(&mut self, path: &Path) -> String {
        let mut text = self.name(path.top());
        for element in path.rest() {
            match element {
                PathElement::Name(name) => {
                    let placeholder = self.name(name);
                    text.push('.');
                    text.push_str(&placeholder);
                }
                PathElement::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }

    fn operand(&mut self, operand: &Operand) -> String {
        match operand {
            Operand::Path(path) => self.path(path),
            Operand::Value(value) => self.value(value),
            Operand::Size(path) => format!("size({})", self.path(path)),
        }
    }

    fn node(&mut self, node: &Node) -> String {
        match node {
            Node::Compare(comparator, left, right) => {
                format!("{} {} {}", self.operand(left), comparator.symbol(), self.operand(right))
            }
            Node::Between(value, low, high) => {
                format!("{} BETWEEN {} AND {}", self.operand(value), self.operand(low), self.operand(high))
            }
            Node::In(value, candidates) => {
                let value = self.operand(value);
                let candidates: Vec<String> = candidates.iter().map(|candidate| self.operand(candidate)).collect();
                format!("{value} IN ({})", candidates.join(", "))
            }
            Node::And(left, right) => format!("({}) AND ({})", self.node(left), self.node(right)),
            Node::Or(left, right) => format!("({}) OR ({})", self.node(left), self.node(right)),
            Node::Not(inner) => format!("NOT ({})", self.node(inner)),
            Node::Exists(path) => format!("attribute_exists({})", self.path(path)),
            Node::NotExists(path) => format!("attribute_not_exists({})", self.path(path)),
            Node::AttributeType(path, type_name) => {
                let path = self.path(path);
                format!("attribute_type({path}, {})", self.value(&AttrValue::S(type_name.clone())))
            }
            Node::BeginsWith(value, prefix) => {
                format!("begins_with({}, {})", self.operand(value), self.operand(prefix))
            }
            Node::Contains(value, needle) => format!("contains({}, {})", self.operand(value), self.operand(needle)),
            Node::True => unreachable!("the expression grammar has no constant"),
        }
    }

    fn term(&mut self, term: &Term) -> String {
        match term {
            Term::Path(path) => self.path(path),
            Term::Value(value) => self.value(value),
            Term::IfNotExists(path, fallback) => {
                let path = self.path(path);
                format!("if_not_exists({path}, {})", self.term(fallback))
            }
            Term::ListAppend(first, second) => format!("list_append({}, {})", self.term(first), self.term(second)),
            Term::Plus(left, right) => format!("{} + {}", self.term(left), self.term(right)),
            Term::Minus(left, right) => format!("{} - {}", self.term(left), self.term(right)),
        }
    }

    fn substitutions(self) -> Substitutions {
        Substitutions::new(self.names, self.values)
    }
}

fn path_with_top(top: impl Strategy<Value = String>) -> impl Strategy<Value = Path> {
    let element = prop_oneof![
        prop::sample::select(vec!["x", "name", "y z"]).prop_map(|name| PathElement::Name(name.to_owned())),
        (0usize..4).prop_map(PathElement::Index),
    ];
    (top, prop::collection::vec(element, 0..3))
        .prop_map(|(top, rest)| rest.into_iter().fold(Path::attribute(top), Path::child))
}

fn path() -> impl Strategy<Value = Path> {
    path_with_top(prop::sample::select(vec!["a", "status", "b-c"]).prop_map(str::to_owned))
}

fn scalar() -> impl Strategy<Value = AttrValue> {
    prop_oneof![
        any::<u32>().prop_map(|n| AttrValue::N(Number::from_u64(u64::from(n)))),
        "[a-z]{0,4}".prop_map(AttrValue::S),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![path().prop_map(Operand::Path), scalar().prop_map(Operand::Value), path().prop_map(Operand::Size)]
}

fn comparator() -> impl Strategy<Value = Comparator> {
    prop::sample::select(vec![
        Comparator::Eq,
        Comparator::Ne,
        Comparator::Lt,
        Comparator::Le,
        Comparator::Gt,
        Comparator::Ge,
    ])
}

fn node() -> impl Strategy<Value = Node> {
    let type_names = vec!["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];
    let leaf = prop_oneof![
        (comparator(), operand(), operand()).prop_map(|(c, l, r)| Node::Compare(c, l, r)),
        (operand(), operand(), operand()).prop_map(|(v, l, h)| Node::Between(v, l, h)),
        (operand(), prop::collection::vec(operand(), 1..4)).prop_map(|(v, c)| Node::In(v, c)),
        path().prop_map(Node::Exists),
        path().prop_map(Node::NotExists),
        (path(), prop::sample::select(type_names)).prop_map(|(p, t)| Node::AttributeType(p, t.to_owned())),
        (operand(), operand()).prop_map(|(v, p)| Node::BeginsWith(v, p)),
        (operand(), operand()).prop_map(|(v, n)| Node::Contains(v, n)),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|n| Node::Not(Box::new(n))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Node::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Node::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// Whether DynamoDB accepts the tree: the parse-time checks on known values.
fn acceptable(node: &Node) -> bool {
    match node {
        Node::Between(_, Operand::Value(low), Operand::Value(high)) => {
            condition::order(low, high) != Some(std::cmp::Ordering::Greater)
        }
        Node::BeginsWith(value, prefix) => [value, prefix]
            .iter()
            .all(|operand| !matches!(operand, Operand::Value(v) if !matches!(v, AttrValue::S(_) | AttrValue::B(_)))),
        Node::And(a, b) | Node::Or(a, b) => acceptable(a) && acceptable(b),
        Node::Not(inner) => acceptable(inner),
        _ => true,
    }
}

/// Updates whose actions touch distinct top-level attributes (so no paths clash), in
/// clause order.
fn actions() -> impl Strategy<Value = Vec<Action>> {
    let number = || any::<u16>().prop_map(|n| AttrValue::N(Number::from_u64(u64::from(n))));
    let string_set =
        || prop::collection::btree_set("[a-z]{1,3}", 1..4).prop_map(|s| AttrValue::Ss(s.into_iter().collect()));
    let set_term = prop_oneof![
        scalar().prop_map(Term::Value),
        path().prop_map(Term::Path),
        (path(), scalar()).prop_map(|(p, v)| Term::IfNotExists(p, Box::new(Term::Value(v)))),
        (path(), number()).prop_map(|(p, n)| Term::Plus(Box::new(Term::Path(p)), Box::new(Term::Value(n)))),
        (path(), number()).prop_map(|(p, n)| Term::Minus(Box::new(Term::Value(n)), Box::new(Term::Path(p)))),
        (path(), path()).prop_map(|(a, b)| Term::ListAppend(Box::new(Term::Path(a)), Box::new(Term::Path(b)))),
    ];
    (
        prop::collection::vec(set_term, 0..3),
        0usize..3,
        prop::collection::vec(prop_oneof![number(), string_set()], 0..3),
        prop::collection::vec(string_set(), 0..3),
    )
        .prop_filter("an update has at least one action", |(sets, removes, adds, deletes)| {
            sets.len() + removes + adds.len() + deletes.len() > 0
        })
        .prop_map(|(sets, removes, adds, deletes)| {
            let mut next = 0;
            let mut target = || {
                next += 1;
                Path::attribute(format!("t{next}"))
            };
            let mut actions: Vec<Action> = sets.into_iter().map(|term| Action::Set(target(), term)).collect();
            actions.extend((0..removes).map(|_| Action::Remove(target())));
            actions.extend(adds.into_iter().map(|value| Action::Add(target(), value)));
            actions.extend(deletes.into_iter().map(|value| Action::Delete(target(), value)));
            actions
        })
}

fn print_update(printer: &mut Printer, actions: &[Action]) -> String {
    let mut clauses: [Vec<String>; 4] = Default::default();
    for action in actions {
        match action {
            Action::Set(path, term) => {
                let path = printer.path(path);
                clauses[0].push(format!("{path} = {}", printer.term(term)));
            }
            Action::Remove(path) => clauses[1].push(printer.path(path)),
            Action::Add(path, value) => {
                let path = printer.path(path);
                clauses[2].push(format!("{path} {}", printer.value(value)));
            }
            Action::Delete(path, value) => {
                let path = printer.path(path);
                clauses[3].push(format!("{path} {}", printer.value(value)));
            }
        }
    }
    ["SET", "REMOVE", "ADD", "DELETE"]
        .iter()
        .zip(clauses)
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(keyword, parts)| format!("{keyword} {}", parts.join(", ")))
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_conditions_parse_back(node in node().prop_filter("DynamoDB refuses it", acceptable)) {
        let mut printer = Printer::default();
        let text = printer.node(&node);
        prop_assume!(text.len() <= crate::limits::EXPRESSION_BYTES_MAX);
        let mut substitutions = printer.substitutions();
        let parsed = Condition::parse(&text, ExpressionKind::Condition, &mut substitutions).unwrap();
        prop_assert_eq!(parsed.node(), &node, "{}", text);
        substitutions.finish().unwrap();
    }

    #[test]
    fn printed_updates_parse_back(actions in actions()) {
        let mut printer = Printer::default();
        let text = print_update(&mut printer, &actions);
        let mut substitutions = printer.substitutions();
        let parsed = Update::parse(&text, &mut substitutions).unwrap();
        prop_assert_eq!(parsed.actions(), actions.as_slice(), "{}", text);
        substitutions.finish().unwrap();
    }
}
