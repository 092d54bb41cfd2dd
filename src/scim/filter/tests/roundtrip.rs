//! Generated trees print to text that parses back to the same tree.

use proptest::prelude::*;

use crate::scim::USER_URN;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter, FilterLimits, parse_filter};

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,6}"
}

fn urn() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(USER_URN.to_owned())),
        1 => "urn:[a-z]{1,4}(:[a-zA-Z0-9.]{1,4}){0,3}".prop_map(Some),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (urn(), name(), proptest::option::of(name())).prop_map(|(urn, attribute, sub)| AttrPath {
        urn,
        attribute,
        sub_attribute: sub,
        span: Default::default(),
    })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::String),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(CompValue::Number),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (
            attr_path(),
            proptest::sample::select(CompareOp::ALL.to_vec()),
            comp_value()
        )
            .prop_map(|(path, op, value)| Filter::compare(path, op, value)),
        attr_path().prop_map(Filter::Present),
    ]
}

/// Filters allowed inside `[…]`: no value paths.
fn inner_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            inner.prop_map(Filter::not),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (urn(), name(), inner_filter()).prop_map(|(urn, attribute, inner)| {
        let path = AttrPath {
            urn,
            ..AttrPath::new(attribute)
        };
        Filter::value_path(path, inner)
    });
    prop_oneof![3 => leaf(), 1 => value_path].prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            inner.prop_map(Filter::not),
        ]
    })
}

const GENEROUS: FilterLimits = FilterLimits {
    max_length: usize::MAX,
    max_depth: 64,
};

proptest! {
    #[test]
    fn printed_filters_parse_back_to_the_same_tree(filter in filter()) {
        let text = filter.to_string();
        let parsed = parse_filter(&text, &GENEROUS);
        prop_assert_eq!(parsed.as_ref(), Ok(&filter), "text {}", text);
    }

    #[test]
    fn printing_is_idempotent(filter in filter()) {
        let text = filter.to_string();
        let reparsed = parse_filter(&text, &GENEROUS).map(|f| f.to_string());
        prop_assert_eq!(reparsed, Ok(text));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z \"()\\[\\]\\\\.:0-9]{0,40}") {
        let _ = parse_filter(&text, &FilterLimits::default());
    }
}
