//! `CompiledPolicy::read` (the hand-written reader) against `CompiledPolicy::load` (serde_json):
//! the same policy for every document `load` accepts, the same kind of error for every other,
//! on the presets, on random policies, on hand-written JSON and on broken text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cancel_policy_core::catalog::{CATALOG, Fact};
use cancel_policy_core::compile::compile;
use cancel_policy_core::compiled::{
    CompiledPolicy, Condition, FORMAT_VERSION, LoadError, Quantifier, Rule, Test, Trigger,
};
use cancel_policy_core::outcome::{CancelReason, Fee, Outcome, OutcomeKind, RefundMethod};
use proptest::prelude::*;
use serde_json::Value;

/// Every preset's compiled JSON, by file name.
fn presets() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../presets");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        let policy = compile(&source, &file).policy.unwrap();
        out.push((file, policy.to_json()));
    }
    out.sort();
    assert!(out.len() >= 8, "the presets were not found");
    out
}

/// What a reader made of a text: the policy (its `Debug`, which tells `-0.0` from `0.0`) or the
/// kind of error, with serde's `Json` and the reader's `Invalid` as one kind.
fn verdict(result: &Result<CompiledPolicy, LoadError>) -> String {
    match result {
        Ok(policy) => format!("ok {policy:?}"),
        Err(LoadError::Json(_) | LoadError::Invalid { .. }) => "invalid".to_string(),
        Err(LoadError::UnsupportedVersion { found }) => format!("version {found}"),
        Err(LoadError::MissingVersion) => "no version".to_string(),
    }
}

/// `read` and `load` agree on `json`.
#[track_caller]
fn agree(json: &str) {
    let _ = both(json);
}

/// `read` and `load` agree on `json`; returns `read`'s result.
#[track_caller]
fn both(json: &str) -> Result<CompiledPolicy, LoadError> {
    let read = CompiledPolicy::read(json);
    let load = CompiledPolicy::load(json);
    assert_eq!(verdict(&read), verdict(&load), "on {json}");
    // What the fast path accepts, `load` accepts, and reads the same.
    if let Some(fast) = CompiledPolicy::read_by_fast_path(json, None) {
        assert_eq!(verdict(&Ok(fast)), verdict(&load), "fast path on {json}");
    }
    if let Ok(policy) = &read {
        assert_eq!(Ok(policy), load.as_ref().map_err(|_| ()));
    }
    read
}

#[track_caller]
fn accepted(json: &str) -> CompiledPolicy {
    match both(json) {
        Ok(policy) => policy,
        Err(e) => panic!("refused ({e}): {json}"),
    }
}

#[track_caller]
fn invalid(json: &str) -> (usize, String) {
    match both(json) {
        Err(LoadError::Invalid { at, problem }) => (at, problem),
        other => panic!("expected Invalid, got {other:?}: {json}"),
    }
}

/// The same JSON with every object's keys in reverse order.
fn reversed(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = map.into_iter().collect();
            Value::Object(
                entries
                    .into_iter()
                    .rev()
                    .map(|(k, v)| (k, reversed(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(reversed).collect()),
        other => other,
    }
}

/// Pretty-printed, with every kind of JSON whitespace.
fn spaced(json: &str) -> String {
    let value: Value = serde_json::from_str(json).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    // Pretty output has no raw newline inside a string.
    format!(" \r\n\t{}\n\t ", pretty.replace('\n', "\r\n\t "))
}

fn reordered(json: &str) -> String {
    let value: Value = serde_json::from_str(json).unwrap();
    serde_json::to_string(&reversed(value)).unwrap()
}

/// A minimal valid policy with `rest` spliced in after `v`.
fn doc(rest: &str) -> String {
    format!(r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[],"d":{{"k":"deny"}}{rest}}}"#)
}

/// A policy with one rule whose conditions are `when` (a JSON list).
fn with_when(when: &str) -> String {
    doc(&format!(
        r#","r":[{{"id":"x","t":1,"w":{when},"o":{{"k":"allow"}}}}]"#
    ))
}

/// Presets as `to_json` writes them, spaced or reordered, are read in one pass, for every
/// locale as the full reader reads them.
/// `read_for_locale`'s policy without the rules that `trigger` does not start, except those
/// that test product tags (their tags are positions in the input variables).
fn for_trigger(mut policy: CompiledPolicy, trigger: Trigger) -> CompiledPolicy {
    let tests_product_tags = |rule: &Rule| {
        let mut found = false;
        for condition in rule.when.iter().chain(rule.then.lines.iter().flatten()) {
            condition.visit_facts(&mut |fact, _| found |= fact == Fact::ProductTags);
        }
        found
    };
    policy
        .rules
        .retain(|rule| rule.triggers & trigger.bit() != 0 || tests_product_tags(rule));
    policy
}

#[test]
fn the_functions_read_keeps_the_rules_of_its_trigger() {
    for (file, json) in presets() {
        for locale in [None, Some("en"), Some("de-CH")] {
            let whole = CompiledPolicy::read_for_locale(&json, locale).unwrap();
            for trigger in Trigger::ALL {
                let read = CompiledPolicy::read_compiled_for(&json, locale, trigger);
                assert_eq!(
                    read.unwrap(),
                    for_trigger(whole.clone(), trigger),
                    "{file} {locale:?} {trigger:?}"
                );
            }
        }
    }
}

/// The header is passed over as `load` passes over it: a number out of an `f64`'s range in it
/// is refused (a random edit of a preset found `"at":[420E459]` accepted by the fast path).
#[test]
fn a_number_out_of_range_in_the_header_is_refused_as_load_refuses_it() {
    for at in ["420E459", "1e400", "-1e400", "12345678901234567890123e300"] {
        let json = format!(
            r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","h":{{"n":[0,0,0,0,0,0,0],"pt":[],"pa":true,"at":[{at}]}},"r":[],"d":{{"k":"deny"}}}}"#
        );
        assert!(both(&json).is_err(), "{json}");
        assert!(
            CompiledPolicy::read_by_fast_path(&json, None).is_none(),
            "{json}"
        );
    }
    // In range, the header's numbers are not its business: read as `load` reads them.
    let json = r#"{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","h":{"n":[0,0,0,0,0,0,0],"pt":[],"pa":true,"at":[1e300,2.5]},"r":[],"d":{"k":"deny"}}"#;
    assert!(both(json).is_ok());
}

#[test]
fn the_functions_read_checks_other_triggers_rules_as_json_only() {
    let other = r#"{"id":"other","t":2,"w":[{"f":["no_such_fact",{"zz":[1,2e999,{}]}]}],"o":7}"#;
    let mine = r#"{"id":"mine","t":1,"o":{"k":"allow"}}"#;
    let with_rules = |rules: &str| {
        format!(
            r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[{rules}],"d":{{"k":"deny"}}}}"#
        )
    };
    let json = with_rules(&format!("{other},{mine}"));
    let read = CompiledPolicy::read_compiled_for(&json, None, Trigger::CustomerRequest).unwrap();
    assert_eq!(read.rules.len(), 1);
    assert_eq!(read.rules[0].id, "mine");
    // A rule of another trigger that tests product tags is read whole: the input variables
    // list its tags.
    let tags = r#"{"id":"tags","t":2,"o":{"k":"cancel_lines","ln":[{"f":["product_tags",{"anyof":["a"]}]}]}}"#;
    let tagged = with_rules(&format!("{tags},{mine}"));
    let whole = CompiledPolicy::read(&tagged).unwrap();
    let read = CompiledPolicy::read_compiled_for(&tagged, None, Trigger::CustomerRequest).unwrap();
    assert_eq!(read.rules, whole.rules);
    assert_eq!(read.input_variables(), whole.input_variables());
    // The same rule is refused where it could decide.
    assert!(CompiledPolicy::read_compiled_for(&json, None, Trigger::StaffRequest).is_err());
    // Not JSON is refused whatever the trigger.
    for broken in [r#""w":[}"#, r#""w":"x"#, r#""w":tru"#, r#""w":01"#] {
        let other = format!(r#"{{"id":"other","t":2,{broken},"o":{{"k":"deny"}}}}"#);
        let json = with_rules(&format!("{other},{mine}"));
        let read = CompiledPolicy::read_compiled_for(&json, None, Trigger::CustomerRequest);
        assert!(matches!(read, Err(LoadError::Invalid { .. })), "{json}");
    }
}

#[test]
fn the_functions_read_refuses_other_forms_saying_where() {
    let read = |json: &str| CompiledPolicy::read_compiled_for(json, None, Trigger::CustomerRequest);
    match read("{not json") {
        Err(LoadError::Invalid { at, .. }) => assert_eq!(at, 1),
        other => panic!("{other:?}"),
    }
    // Well-formed, and read by `read`, but not as `to_json` writes it: a unit variant with a
    // `null` payload.
    let json = r#"{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[],"d":{"k":{"deny":null}}}"#;
    assert!(CompiledPolicy::read(json).is_ok());
    match read(json) {
        Err(LoadError::Invalid { at, .. }) => assert_eq!(&json[at..at + 2], "{\""),
        other => panic!("{other:?}"),
    }
    let (_, preset) = &presets()[0];
    let mut value: Value = serde_json::from_str(preset).unwrap();
    value["v"] = Value::from(99);
    assert!(matches!(
        read(&value.to_string()),
        Err(LoadError::UnsupportedVersion { found: 99 })
    ));
}

#[test]
fn presets_take_the_fast_path() {
    for (file, json) in presets() {
        let expected = CompiledPolicy::load(&json).unwrap();
        for text in [json.clone(), spaced(&json), reordered(&json)] {
            let fast = CompiledPolicy::read_by_fast_path(&text, None);
            assert_eq!(fast.as_ref(), Some(&expected), "{file}: {text}");
            for locale in [
                None,
                Some("en"),
                Some("de"),
                Some("fr_CA"),
                Some("pt-BR"),
                Some("xx"),
            ] {
                let fast = CompiledPolicy::read_by_fast_path(&text, Some(locale));
                let full = CompiledPolicy::read_by_full_path(&text, Some(locale)).unwrap();
                assert_eq!(fast, Some(full), "{file} for {locale:?}: {text}");
            }
        }
    }
}

/// Forms `load` accepts that the fast path leaves to the full reader, which reads them.
#[test]
fn the_fast_path_leaves_unusual_forms_to_the_full_reader() {
    let unusual = [
        doc(r#","id":"again""#),
        doc(r#","zz":1"#),
        doc(r#","d":["deny"]"#),
        doc(r#","d":{"k":{"deny":null}}"#),
        doc(r#","d":{"k":"deny","k":"allow"}"#),
        doc(r#","id":"\u0070""#),
        doc(r#","d":{"k":"deny","hm":12345678}"#),
        doc(r#","d":{"k":"deny","hm":0}"#),
        with_when(r#"[{"f":["b2b",{"is":true}],"f":["b2b",{"is":false}]}]"#),
        with_when(r#"[{"l":[{"any":null},[]]}]"#),
        format!("{{\"v\":1,{}", &doc("")[1..]),
    ];
    for json in &unusual {
        let policy = accepted(json);
        let fast = CompiledPolicy::read_by_fast_path(json, None);
        assert!(fast.is_none() || fast == Some(policy), "{json}");
    }
    for json in [
        &unusual[0],
        &unusual[1],
        &unusual[2],
        &unusual[3],
        &unusual[4],
    ] {
        assert_eq!(
            CompiledPolicy::read_by_fast_path(json, None),
            None,
            "{json}"
        );
    }
}

#[test]
fn every_preset_reads_as_load_reads_it() {
    for (file, json) in presets() {
        let expected = CompiledPolicy::load(&json).unwrap();
        for text in [json.clone(), spaced(&json), reordered(&json)] {
            let read =
                CompiledPolicy::read(&text).unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
            assert_eq!(read, expected, "{file}");
            assert_eq!(format!("{read:?}"), format!("{expected:?}"), "{file}");
        }
        assert_eq!(
            CompiledPolicy::read(&spaced(&reordered(&json))).unwrap(),
            expected
        );
    }
}

#[test]
fn every_truncated_preset_is_refused() {
    for (file, json) in presets() {
        for end in (0..json.len()).filter(|&end| json.is_char_boundary(end)) {
            let prefix = &json[..end];
            let result = CompiledPolicy::read(prefix);
            assert!(
                matches!(result, Err(LoadError::Invalid { .. })),
                "{file} cut at {end}: {result:?}"
            );
            // And with the end of the text closed early (still refused, or the same as load).
            agree(&format!("{prefix}}}"));
        }
    }
}

#[test]
fn version_errors_come_first() {
    assert!(matches!(
        both(r#"{"id":"p"}"#),
        Err(LoadError::MissingVersion)
    ));
    assert!(matches!(both("{}"), Err(LoadError::MissingVersion)));
    assert!(matches!(both("[1,2]"), Err(LoadError::MissingVersion)));
    assert!(matches!(both("\"v\""), Err(LoadError::MissingVersion)));
    assert!(matches!(both("null"), Err(LoadError::MissingVersion)));
    for v in [
        r#""1""#, "1.0", "1e0", "-1", "-0", "null", "true", "[1]", "{}",
    ] {
        assert!(
            matches!(
                both(&format!(r#"{{"v":{v}}}"#)),
                Err(LoadError::MissingVersion)
            ),
            "v = {v}"
        );
    }
    // Too large for u64: a float to serde_json, so no version.
    assert!(matches!(
        both(r#"{"v":18446744073709551616}"#),
        Err(LoadError::MissingVersion)
    ));
    // Another version, whatever else the document holds, wherever `v` is.
    for json in [
        r#"{"v":2,"r":"junk","d":[1,2,{"x":null}],"k":1e10}"#,
        r#"{"r":{"a":[true,false]},"zz":"\u00e9\n","v":2}"#,
        r#"{"v":0}"#,
        r#"{"v":18446744073709551615, "id": 3}"#,
        " {\"v\" : 2 } ",
    ] {
        let found = match both(json) {
            Err(LoadError::UnsupportedVersion { found }) => found,
            other => panic!("{json}: {other:?}"),
        };
        assert_ne!(found, u64::from(FORMAT_VERSION));
    }
    // The last `v` counts, as in a serde_json::Value.
    accepted(&doc(r#","v":1"#).replacen(r#""v":1"#, r#""v":2"#, 1));
    assert!(matches!(
        both(&doc(r#","v":2"#)),
        Err(LoadError::UnsupportedVersion { found: 2 })
    ));
    assert!(matches!(
        both(&doc(r#","v":"1""#)),
        Err(LoadError::MissingVersion)
    ));
    // An escaped key is the same key.
    accepted(&doc("").replacen(r#""v""#, r#""\u0076""#, 1));
    // Not JSON: refused as such even with another version.
    invalid(r#"{"v":2,"#);
    invalid(r#"{"v":2,"r":[}"#);
    invalid(r#"{"v":2} x"#);
    invalid("");
    invalid("   ");
}

#[test]
fn errors_say_what_and_where() {
    let json = doc(r#","r":[{"id":"x","t":"1","o":{"k":"allow"}}]"#);
    let (at, problem) = invalid(&json);
    assert_eq!(&json[at..at + 3], r#""1""#, "{problem}");
    assert!(problem.contains("unsigned integer"), "{problem}");
    let message = CompiledPolicy::read(&json).unwrap_err().to_string();
    assert!(
        message.starts_with("the compiled policy is not valid: ")
            && message.ends_with(&format!("at byte {at}")),
        "{message}"
    );
    let (_, problem) = invalid(&doc("").replacen(r#""id":"p","#, "", 1));
    assert!(problem.contains("missing field `id`"), "{problem}");
    let (_, problem) = invalid(&with_when(r#"[{"f":["no_such_fact",{"is":true}]}]"#));
    assert!(problem.contains("no_such_fact"), "{problem}");
}

#[test]
fn wrong_types_and_ranges_are_refused() {
    for rest in [
        r#","id":1"#,
        r#","ver":null"#,
        r#","r":{}"#,
        r#","r":[1]"#,
        r#","d":"deny""#,
        r#","d":{"k":"deny","rk":null}"#,
        r#","d":{"k":"deny","rk":1}"#,
        r#","d":{"k":"deny","tg":null}"#,
        r#","d":{"k":"deny","tg":["a",1]}"#,
        r#","d":{"k":"deny","hm":-1}"#,
        r#","d":{"k":"deny","hm":4294967296}"#,
        r#","d":{"k":"deny","hm":1.5}"#,
        r#","d":{"k":"deny","hm":1e2}"#,
        r#","d":{"k":"nope"}"#,
        r#","d":{"k":{"deny":1}}"#,
        r#","d":{"k":{}}"#,
        r#","d":{"k":{"deny":null,"allow":null}}"#,
        r#","d":{"k":"deny","rs":"customer"}"#,
        r#","d":{"k":"deny","rf":"card"}"#,
        r#","d":{"k":"deny","fee":"pct"}"#,
        r#","d":{"k":"deny","fee":{"pct":"5"}}"#,
        r#","d":{"k":"deny","fee":{"fix":5}}"#,
        r#","d":{"k":"deny","fee":{"pct":5,"fix":"1"}}"#,
        r#","d":{"k":"deny","ln":{}}"#,
        r#","m":{"en":{"a":1}}"#,
        r#","m":{"en":null}"#,
        r#","m":[]"#,
        r#","r":[{"id":"x","t":256,"o":{"k":"deny"}}]"#,
        r#","r":[{"id":"x","t":-1,"o":{"k":"deny"}}]"#,
        r#","r":[{"id":"x","o":{"k":"deny"}}]"#,
        r#","r":[{"id":"x","t":1}]"#,
        r#","r":[["x",1,[]]]"#,
        r#","r":[["x",1,[],{"k":"deny"},5]]"#,
        r#","r":[[]]"#,
        r#","d":["deny",null,null,null,false,false,null,[],null,null,null,null,1]"#,
        r#","d":[]"#,
    ] {
        invalid(&doc(rest));
    }
    for when in [
        r#"{}"#,
        r#"[{}]"#,
        r#"["all"]"#,
        r#"[{"all":{}}]"#,
        r#"[{"all":[],"any":[]}]"#,
        r#"[{"not":[]}]"#,
        r#"[{"f":[]}]"#,
        r#"[{"f":["b2b"]}]"#,
        r#"[{"f":["b2b",{"is":true},1]}]"#,
        r#"[{"f":{"b2b":{"is":true}}}]"#,
        r#"[{"f":["customer_cancellations_30d",{"ge":1}]}]"#,
        r#"[{"f":["b2b",{"is":1}]}]"#,
        r#"[{"f":["b2b","is"]}]"#,
        r#"[{"f":["b2b",{"is":true,"eq":1}]}]"#,
        r#"[{"f":["b2b",{"eq":"1"}]}]"#,
        r#"[{"f":["b2b",{"eq":1e400}]}]"#,
        r#"[{"f":["b2b",{"eq":-1e400}]}]"#,
        r#"[{"f":["b2b",{"in":"a"}]}]"#,
        r#"[{"f":["b2b",{"glob":["a"]}]}]"#,
        r#"[{"f":["b2b",{"before":65536}]}]"#,
        r#"[{"f":["b2b",{"after":-0}]}]"#,
        r#"[{"f":["b2b",{"cut":{"at":840}}]}]"#,
        r#"[{"f":["b2b",{"cut":{"at":840,"days":256}}]}]"#,
        r#"[{"f":["b2b",{"cut":[840,31]}]}]"#,
        r#"[{"f":["b2b",{"nope":1}]}]"#,
        r#"[{"l":["count",[]]}]"#,
        r#"[{"l":[{"any":[]},[]]}]"#,
        r#"[{"l":["some",[]]}]"#,
        r#"[{"l":["any",{}]}]"#,
        r#"[{"x":1}]"#,
    ] {
        invalid(&with_when(when));
    }
}

#[test]
fn hand_written_json_reads_as_serde_reads_it() {
    // Unknown keys with every kind of value, anywhere.
    let unknown = r#""zz":{"a":[1,-2.5e-3,true,false,null,"s\"\\\u00e9",{},[]]}"#;
    let p = accepted(&doc(&format!(",{unknown}")));
    assert_eq!(p.id, "p");
    accepted(&with_when(&format!(
        r#"[{{"f":["b2b",{{"is":true}}]}}],{unknown}"#
    )));
    accepted(&doc(&format!(r#","d":{{"k":"deny",{unknown},"n":true}}"#)));
    accepted(&with_when(&format!(
        r#"[{{"f":["local_time",{{"cut":{{"days":31,{unknown},"at":840}}}}]}}]"#
    )));
    // Unit variants as `{"name": null}`, options as null, defaults when missing.
    let p = accepted(&doc(
        r#","d":{"k":{"cancel":null},"rs":{"FRAUD":null},"rf":null,"fee":null,"sn":null,"ln":null,"hm":null,"msg":null,"hr":null}"#,
    ));
    assert_eq!(p.default.kind, OutcomeKind::Cancel);
    assert_eq!(p.default.reason, Some(CancelReason::Fraud));
    let p = accepted(&with_when(
        r#"[{"l":[{"any":null},[{"f":[{"gift_card":null},{"is":false}]}]]}]"#,
    ));
    assert!(matches!(
        &p.rules[0].when[0],
        Condition::Lines(Quantifier::Any, c) if matches!(c[0], Condition::Fact(Fact::GiftCard, Test::Is(false)))
    ));
    accepted(&with_when(r#"[{"l":[{"count":{"ge":2}},[]]}]"#));
    accepted(&with_when(r#"[{"l":["none",[]]},{"l":["all",[]]}]"#));
    accepted(&with_when(
        r#"[{"not":{"all":[{"any":[]},{"f":["customer_cancellations30d",{"lt":3}]}]}}]"#,
    ));
    // A repeated key counts for its last value, even when an earlier one is of the wrong shape.
    let p = accepted(&doc(r#","id":5,"id":"again""#));
    assert_eq!(p.id, "again");
    accepted(&doc(r#","d":{"k":"nope","k":"allow","rk":1,"rk":true}"#));
    accepted(&with_when(r#"[{"not":5,"not":{"f":["b2b",{"is":true}]}}]"#));
    accepted(&with_when(
        r#"[{"f":["b2b",{"cut":{"at":-1,"days":1,"at":2}}]}]"#,
    ));
    let p = accepted(&doc(r#","m":{"en":1,"en":{"a":"b","a":"c"},"fr":{}}"#));
    assert_eq!(p.messages["en"]["a"], "c");
    invalid(&doc(r#","id":"p","id":5"#));
    // A value passed over for its shape must still be JSON.
    for bad in [
        r#","id":5 x,"id":"ok""#,
        r#","id":{"a":[}],"id":"ok""#,
        r#","id":[1,,2],"id":"ok""#,
        r#","id":"\x","id":"ok""#,
        r#","id":01,"id":"ok""#,
        r#","id":1e999,"id":"ok""#,
        r#","id":tru,"id":"ok""#,
        r#","d":{"k":"nope" 1,"k":"deny"}"#,
        r#","d":{"k":{"deny":1 2},"k":"deny"}"#,
    ] {
        invalid(&doc(bad));
    }
    invalid(&doc(r#","m":{"en":{},"en":1}"#));
    // A rule or an outcome as an array of its fields, as serde_json allows.
    let p = accepted(&doc(
        r#","r":[["x",3,[],["allow",null,"CUSTOMER",null,{"pct":10}]]]"#,
    ));
    assert_eq!(p.rules[0].then.fee, Some(Fee::Percent(10.0)));
    assert_eq!(p.rules[0].then.refund, None);
    accepted(&doc(
        r#","d":["hold",[],null,"store_credit",{"fix":"2.50"},true,true,"note",["t"],"m","OTHER",90]"#,
    ));
    // Every escape.
    let p = accepted(&doc(
        r#","id":"\"\\\/\b\f\n\r\t\u0000\u001f\u00e9\u20AC\ud83d\ude00\uDBFF\uDFFF é😀""#,
    ));
    assert_eq!(p.id, "\"\\/\u{8}\u{c}\n\r\t\u{0}\u{1f}é€😀\u{10FFFF} é😀");
}

#[test]
fn broken_strings_are_refused() {
    for id in [
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        r#""\ud800""#,
        r#""\ud800x""#,
        r#""\ud800\n""#,
        r#""\ud800\u0041""#,
        r#""\ud800\ud800""#,
        r#""\udc00""#,
        "\"a\u{1}b\"",
        "\"a\nb\"",
        "\"a\u{1f}\"",
        r#""abc"#,
        r#""abc\"#,
    ] {
        invalid(&doc(&format!(r#","id":{id}"#)));
        // The same, in a value that is skipped.
        invalid(&doc(&format!(r#","unknown":[{id}]"#)));
        // And as a key.
        invalid(&doc(&format!(r#",{id}:1"#)));
    }
    // DEL and non-ASCII are plain characters.
    assert_eq!(
        accepted(&doc(",\"id\":\"a\u{7f}\u{80}\"")).id,
        "a\u{7f}\u{80}"
    );
}

#[test]
fn numbers_read_as_serde_reads_them() {
    for number in [
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "60",
        "0.1",
        "49.99",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "2.5E-3",
        "-7",
        "123456789012345678",
        "9007199254740993",
        "18446744073709551615",
        "18446744073709551616",
        "1e22",
        "1e23",
        "1.7976931348623157e308",
        "5e-324",
        "1e-400",
        "-1e-400",
        "0.30000000000000004",
        "123.456e-7",
        "1.00000000000000000000000000001",
        "10000000000000000000000000000000000000000000000000000000000000000000000000000001",
        "0e99999999999",
        "1e-99999999999",
    ] {
        let p = accepted(&with_when(&format!(
            r#"[{{"f":["total_price",{{"eq":{number}}}]}}]"#
        )));
        let Condition::Fact(_, Test::Eq(value)) = p.rules[0].when[0] else {
            panic!()
        };
        let expected: f64 = number.parse().unwrap();
        assert_eq!(value.to_bits(), expected.to_bits(), "{number}");
    }
    for number in [
        "01", "-01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "1.e3", "0x10", "1e400",
        "Infinity", "NaN", "1_000",
    ] {
        invalid(&with_when(&format!(
            r#"[{{"f":["total_price",{{"eq":{number}}}]}}]"#
        )));
        invalid(&doc(&format!(r#","unknown":{number}"#)));
    }
    // A huge number is refused even where it is skipped.
    invalid(&doc(&format!(r#","unknown":1{}"#, "0".repeat(400))));
    accepted(&doc(&format!(r#","unknown":1{}"#, "0".repeat(300))));
}

#[test]
fn nesting_stops_where_serde_json_stops() {
    // Arrays nested in an unknown key: the document is depth 1, so 126 more are fine.
    for depth in [125, 126, 127, 128, 200] {
        let json = doc(&format!(
            r#","zz":{}{}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ));
        let result = both(&json);
        assert_eq!(result.is_ok(), depth <= 126, "depth {depth}");
    }
    // Conditions nested as deep as serde_json goes, and deeper.
    for depth in [30, 60, 200] {
        let when = format!(
            r#"[{}{{"f":["b2b",{{"is":true}}]}}{}]"#,
            r#"{"not":"#.repeat(depth),
            "}".repeat(depth)
        );
        assert_eq!(
            both(&with_when(&when)).is_ok(),
            depth < 100,
            "depth {depth}"
        );
    }
    // No stack overflow however deep the text goes.
    for open in ["[", "{\"a\":", "{\"not\":"] {
        let json = doc(&format!(r#","zz":{}"#, open.repeat(100_000)));
        invalid(&json);
        let when = format!("[{}", r#"{"all":["#.repeat(100_000));
        invalid(&with_when(&when));
    }
}

/// Mutations of each preset at every few bytes: whatever happens, `read` and `load` agree.
#[test]
fn mutated_presets_read_as_load_reads_them() {
    let replacements: &[&str] = &[
        "",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "0",
        "-",
        "9",
        "a",
        " ",
        "\\",
        "null",
        "1.5",
        "é",
        ",\"zz\":1",
        "[]",
        "{}",
    ];
    for (_, json) in presets() {
        let mut checked = 0;
        for (n, at) in (0..json.len())
            .filter(|&i| json.is_char_boundary(i))
            .enumerate()
        {
            let with = replacements[n % replacements.len()];
            let end = (at + 1..=json.len())
                .find(|&e| json.is_char_boundary(e))
                .unwrap_or(json.len());
            // Replace the character at `at`, and insert before it.
            agree(&format!("{}{with}{}", &json[..at], &json[end..]));
            agree(&format!("{}{with}{}", &json[..at], &json[at..]));
            checked += 1;
        }
        assert!(checked > 100);
    }
}

// ---------------------------------------------------------------------------------------------
// Random policies

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{0,10}",
        2 => any::<String>(),
        2 => "[\"\\\\/\u{0}-\u{1f}\u{7f}a é€😀\u{2028}\u{10FFFF}]{0,8}",
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (-100_000i64..100_000).prop_map(|n| n as f64 / 100.0),
        2 => (-1000i64..1000).prop_map(|n| n as f64),
        2 => any::<f64>().prop_filter("finite", |f| f.is_finite()),
        2 => proptest::sample::select(vec![
            0.1, 49.99, 1e3, -0.0, 0.0, 1e300, 5e-324, f64::MAX, f64::MIN_POSITIVE, 1e22, 1e23,
            9007199254740993.0, 0.30000000000000004, 1e-7,
        ]),
    ]
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(text(), 0..4)
}

fn test_strategy() -> impl Strategy<Value = Test> {
    prop_oneof![
        any::<bool>().prop_map(Test::Is),
        number().prop_map(Test::Eq),
        number().prop_map(Test::Ne),
        number().prop_map(Test::Lt),
        number().prop_map(Test::Le),
        number().prop_map(Test::Gt),
        number().prop_map(Test::Ge),
        strings().prop_map(Test::In),
        strings().prop_map(Test::NotIn),
        strings().prop_map(Test::Prefix),
        text().prop_map(Test::Matches),
        strings().prop_map(Test::AnyOf),
        strings().prop_map(Test::AllOf),
        strings().prop_map(Test::NoneOf),
        strings().prop_map(Test::AllIn),
        text().prop_map(Test::AtLeast),
        text().prop_map(Test::AtMost),
        any::<u16>().prop_map(Test::Before),
        any::<u16>().prop_map(Test::After),
        (any::<u16>(), any::<u8>()).prop_map(|(at, days)| Test::Cutoff { at, days }),
    ]
}

fn fact() -> impl Strategy<Value = Fact> {
    proptest::sample::select(CATALOG.iter().map(|s| s.fact).collect::<Vec<_>>())
}

fn quantifier() -> impl Strategy<Value = Quantifier> {
    prop_oneof![
        Just(Quantifier::Any),
        Just(Quantifier::All),
        Just(Quantifier::None),
        test_strategy().prop_map(Quantifier::Count),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = (fact(), test_strategy()).prop_map(|(f, t)| Condition::Fact(f, t));
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Condition::All),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Condition::Any),
            inner.clone().prop_map(|c| Condition::Not(Box::new(c))),
            (quantifier(), proptest::collection::vec(inner, 0..3))
                .prop_map(|(q, c)| Condition::Lines(q, c)),
        ]
    })
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let kind = proptest::sample::select(OutcomeKind::ALL.to_vec());
    let reason = proptest::option::of(proptest::sample::select(vec![
        CancelReason::Customer,
        CancelReason::Declined,
        CancelReason::Fraud,
        CancelReason::Inventory,
        CancelReason::Staff,
        CancelReason::Other,
    ]));
    let refund = proptest::option::of(proptest::sample::select(vec![
        RefundMethod::Original,
        RefundMethod::StoreCredit,
        RefundMethod::None,
    ]));
    let fee = proptest::option::of(prop_oneof![
        number().prop_map(Fee::Percent),
        text().prop_map(Fee::Fixed),
    ]);
    (
        (kind, reason, refund, fee, any::<bool>(), any::<bool>()),
        (
            proptest::option::of(text()),
            strings(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(proptest::collection::vec(condition(), 0..3)),
        ),
    )
        .prop_map(
            |(
                (kind, reason, refund, fee, restock, notify),
                (staff_note, tags, message, hold_reason, hold_minutes, lines),
            )| Outcome {
                kind,
                reason,
                refund,
                fee,
                restock,
                notify,
                staff_note,
                tags,
                message,
                hold_reason,
                hold_minutes,
                lines,
            },
        )
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        text(),
        any::<u8>(),
        proptest::collection::vec(condition(), 0..3),
        outcome(),
    )
        .prop_map(|(id, triggers, when, then)| Rule {
            id,
            triggers,
            when,
            then,
        })
}

fn policy() -> impl Strategy<Value = CompiledPolicy> {
    (
        (text(), text(), text(), text()),
        proptest::collection::vec(rule(), 0..4),
        outcome(),
        proptest::collection::btree_map(
            text(),
            proptest::collection::btree_map(text(), text(), 0..3),
            0..3,
        ),
    )
        .prop_map(
            |((id, version, default_locale, timezone), rules, default, messages)| CompiledPolicy {
                format: FORMAT_VERSION,
                id,
                version,
                default_locale,
                timezone,
                rules,
                default,
                messages: messages
                    .into_iter()
                    .map(|(locale, texts)| (locale, texts.into_iter().collect()))
                    .collect(),
            },
        )
}

/// A JSON string for `s` with each character written raw or escaped, as `escape` picks.
fn escaped(s: &str, escape: &[u8]) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let how = escape.get(i % escape.len().max(1)).copied().unwrap_or(0) % 3;
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' if how == 1 => Some("\\/"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            _ => None,
        };
        if let (Some(short), true) = (short, how != 2) {
            out.push_str(short);
        } else if how == 2 || (c as u32) < 0x20 || c == '"' || c == '\\' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Valid and invalid JSON number texts.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?",
        1 => "[-+]?[0-9.eE+-]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_policies_read_back(policy in policy()) {
        let json = policy.to_json();
        let read = CompiledPolicy::read(&json);
        prop_assert_eq!(verdict(&read), format!("ok {policy:?}"));
        let fast = CompiledPolicy::read_by_fast_path(&json, None).map(Ok);
        prop_assert_eq!(verdict(&fast.unwrap_or(Err(LoadError::MissingVersion))), format!("ok {policy:?}"));
        prop_assert_eq!(verdict(&read), verdict(&CompiledPolicy::load(&json)));
        let read = CompiledPolicy::read(&spaced(&reordered(&json)));
        prop_assert_eq!(verdict(&read), format!("ok {policy:?}"));
    }

    #[test]
    fn random_policies_read_for_one_trigger(policy in policy(), which in 0usize..7, locale in proptest::option::of(text())) {
        let json = policy.to_json();
        let trigger = Trigger::ALL[which];
        let read = CompiledPolicy::read_compiled_for(&json, locale.as_deref(), trigger).unwrap();
        let whole = CompiledPolicy::read_for_locale(&json, locale.as_deref()).unwrap();
        prop_assert_eq!(read, for_trigger(whole, trigger));
    }

    #[test]
    fn random_escapes_decode_as_serde_decodes_them(s in any::<String>(), how in proptest::collection::vec(any::<u8>(), 1..8)) {
        let json = doc(&format!(",\"id\":{}", escaped(&s, &how)));
        let p = accepted(&json);
        prop_assert_eq!(p.id, s);
    }

    #[test]
    fn random_numbers_read_as_serde_reads_them(n in number_text(), t in "-?[0-9]{1,22}(\\.0)?") {
        agree(&with_when(&format!(r#"[{{"f":["total_price",{{"eq":{n}}}]}}]"#)));
        agree(&doc(&format!(r#","zz":{n}"#)));
        agree(&doc(&format!(r#","r":[{{"id":"x","t":{t},"o":{{"k":"deny"}}}}]"#)));
        agree(&doc(&format!(r#","d":{{"k":"hold","hm":{t}}}"#)));
        agree(&with_when(&format!(r#"[{{"f":["local_time",{{"before":{t}}}]}}]"#)));
        agree(&format!(r#"{{"v":{t}}}"#));
    }

    #[test]
    fn random_edits_of_presets_read_as_load_reads_them(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..3, "[\\[\\]{}:,\"\\\\0-9a-z .eE+-]{0,3}"), 1..4),
    ) {
        let presets = presets();
        let mut json = presets[which.index(presets.len())].1.clone();
        for (at, kind, with) in edits {
            let mut at = at.index(json.len() + 1);
            while !json.is_char_boundary(at) {
                at -= 1;
            }
            let end = (at + 1..=json.len()).find(|&e| json.is_char_boundary(e)).unwrap_or(json.len());
            json = match kind {
                0 => format!("{}{with}{}", &json[..at], &json[at..]),
                1 => format!("{}{with}{}", &json[..at], &json[end..]),
                _ => format!("{}{}", &json[..at], &json[end..]),
            };
        }
        agree(&json);
        // The Function's read accepts what the fast path accepts, and refuses with a defined
        // error what it does not read.
        let fast = CompiledPolicy::read_by_fast_path(&json, Some(Some("en")));
        for trigger in Trigger::ALL {
            match CompiledPolicy::read_compiled_for(&json, Some("en"), trigger) {
                Ok(read) => {
                    if let Some(fast) = &fast {
                        prop_assert_eq!(read, for_trigger(fast.clone(), trigger));
                    }
                }
                Err(LoadError::Invalid { at, .. }) => prop_assert!(at <= json.len()),
                Err(LoadError::UnsupportedVersion { found }) => prop_assert_ne!(found, 1),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
