//! `CompiledPolicy::stream` (the Function's read, one rule at a time) and `RuleByRule` against
//! the whole policy and `evaluate`: the same rules in the same order, the same decisions, on
//! the presets and on random policies; what the header says is what the rules consult.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cancel_policy_core::compile::compile;
use cancel_policy_core::compiled::{
    CompiledPolicy, FactSet, FunctionHeader, InputNeeds, LineInputs, LoadError, NotAdmitted, Rule,
    Trigger,
};
use cancel_policy_core::eval::RuleByRule;
use cancel_policy_core::facts::{Facts, LineFacts};
use cancel_policy_core::outcome::{Outcome, OutcomeKind};
use cancel_policy_core::{Decision, evaluate};
use chrono::{DateTime, TimeZone, Utc};

/// Every preset, compiled.
fn presets() -> Vec<(String, CompiledPolicy)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../presets");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        out.push((file.clone(), compile(&source, &file).policy.unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 8, "the presets were not found");
    out
}

/// The decision as the Function makes it: rules read one at a time from `json`, each whole
/// only once its conditions hold. Also how many rules were read.
fn streamed(
    json: &str,
    facts: &Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
) -> Result<(Decision, usize), LoadError> {
    let (_, mut stream) = CompiledPolicy::stream(json, trigger)?;
    let evaluation = RuleByRule::new(facts, now, trigger);
    let locale = facts.request.locale.as_deref();
    let mut read = 0;
    while let Some(rule) = stream.next_rule()? {
        read += 1;
        if !evaluation.conditions_hold(rule.triggers, &rule.when) {
            continue;
        }
        // A `cancel_lines` rule that selects no line, known from its selector alone.
        if let Some(selector) = stream.line_selector(&rule)?
            && evaluation.outcome_decides(&selector).is_none()
        {
            continue;
        }
        let rule = stream.whole(rule)?;
        let decides = evaluation.outcome_decides(&rule.then);
        assert_eq!(decides, evaluation.try_rule(&rule));
        if let Some(decides) = decides {
            let end = stream.finish(Some(&rule.then), locale)?;
            assert!(end.policy.rules.is_empty() && !end.default_read);
            let decision = evaluation.decide(&end.policy, rule.id, &rule.then, decides);
            return Ok((decision, read));
        }
    }
    let end = stream.finish(None, locale)?;
    assert!(end.default_read);
    Ok((
        evaluation.decide_by_default(&end.policy, &end.policy.default),
        read,
    ))
}

/// `json` with the header's `after_rules` replaced.
fn with_after_rules(json: &str, after_rules: [u32; 2]) -> String {
    let start = json.find(r#""at":["#).unwrap();
    let end = start + json[start..].find(']').unwrap() + 1;
    let [a, b] = after_rules;
    format!(r#"{}"at":[{a},{b}]{}"#, &json[..start], &json[end..])
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 10, 0).unwrap()
}

fn some_facts(minutes_ago: i64, locale: Option<&str>) -> Facts {
    let mut facts = Facts::default();
    facts.order.created_at = Some(now() - chrono::Duration::minutes(minutes_ago));
    facts.request.locale = locale.map(str::to_string);
    facts
}

#[test]
fn presets_stream_to_the_whole_policys_decisions() {
    for (file, policy) in presets() {
        let json = policy.to_json();
        let (header, _) = CompiledPolicy::stream(&json, Trigger::CustomerRequest).unwrap();
        let written = FunctionHeader {
            after_rules: [0, 0],
            ..header.clone()
        };
        assert_eq!(written, policy.function_header(), "{file}");
        // The text after the rules is where the header says.
        let rules_at = json.find(r#""r":["#).unwrap() + 4;
        let [after_rules, after_default] = header.after_rules.map(|at| rules_at + at as usize);
        assert!(json[after_rules..].starts_with(r#","d":"#), "{file}");
        assert!(json[after_default..].starts_with(r#","m":"#), "{file}");
        for trigger in Trigger::ALL {
            for minutes in [5, 90, 3000, 100_000] {
                for locale in [None, Some("en"), Some("de-CH"), Some("fr")] {
                    let facts = some_facts(minutes, locale);
                    let expected = evaluate(&policy, &facts, now(), trigger);
                    let (decision, read) = streamed(&json, &facts, now(), trigger).unwrap();
                    assert_eq!(
                        decision, expected,
                        "{file} {trigger:?} {minutes} {locale:?}"
                    );
                    // Where the header says the text after the rules starts is checked before
                    // it is used: wrong places are scanned past instead.
                    for wrong in [[0, 0], [1, 2], [7, 3]] {
                        let text = with_after_rules(&json, wrong);
                        assert_eq!(streamed(&text, &facts, now(), trigger).unwrap().0, expected);
                    }
                    // Only the trigger's rules up to the deciding one were read.
                    let of_trigger: Vec<&Rule> = policy
                        .rules
                        .iter()
                        .filter(|r| r.triggers & trigger.bit() != 0)
                        .collect();
                    let upto = match &expected.rule {
                        Some(id) => of_trigger.iter().position(|r| r.id == *id).unwrap() + 1,
                        None => of_trigger.len(),
                    };
                    assert_eq!(read, upto, "{file} {trigger:?}");
                }
            }
        }
    }
}

#[test]
fn the_header_covers_what_each_rule_consults() {
    for (file, policy) in presets() {
        let header = policy.function_header();
        // What any trigger needs of a line is what the input variables include.
        let included = policy.input_variables().lines;
        assert_eq!(
            LineInputs::of_needs(header.any_trigger_needs()),
            LineInputs {
                with_tag_answers: false,
                ..included
            },
            "{file}"
        );
        for trigger in Trigger::ALL {
            for rule in policy
                .rules
                .iter()
                .filter(|r| r.triggers & trigger.bit() != 0)
            {
                assert_eq!(
                    header.admits(trigger, &rule.when, &rule.then, &mut 0),
                    Ok(()),
                    "{file}"
                );
            }
            assert_eq!(
                header.admits(trigger, &[], &policy.default, &mut 0),
                Ok(()),
                "{file}"
            );
        }
    }
}

/// The facts the stream notes for each rule it reads are those its conditions and line
/// selector name, and the check that uses them answers as the one that visits the conditions,
/// for the header as written and for headers that each leave out one thing a trigger needs.
#[test]
fn the_facts_noted_while_reading_check_a_rule_as_its_conditions_do() {
    let mut tested = 0;
    for (file, policy) in presets() {
        let json = policy.to_json();
        for trigger in Trigger::ALL {
            let (header, mut stream) = CompiledPolicy::stream(&json, trigger).unwrap();
            let mut headers = vec![header.clone()];
            for bit in 0..18 {
                let mut lacking = header.clone();
                lacking.needs[trigger as usize] &= !(1 << bit);
                if lacking != header {
                    headers.push(lacking);
                }
            }
            while let Some(rule) = stream.next_rule().unwrap() {
                // Before the outcome is read, those of the conditions.
                let conditions_facts = stream.facts_read();
                let passed_over = Outcome::new(OutcomeKind::Deny);
                assert_eq!(conditions_facts, FactSet::of(&rule.when, &passed_over));
                // A rule that does not decide, checked by its facts' needs alone (with the
                // other such rules'), as its conditions are checked.
                if conditions_facts.needs_alone() {
                    for header in &headers {
                        assert_eq!(
                            header.admits_passed(trigger, conditions_facts),
                            header.admits(trigger, &rule.when, &passed_over, &mut 0),
                            "{file}"
                        );
                    }
                }
                let rule = stream.whole(rule).unwrap();
                let facts = stream.facts_read();
                assert_eq!(
                    facts,
                    FactSet::of(&rule.when, &rule.then),
                    "{file} {}",
                    rule.id
                );
                for header in &headers {
                    let (mut by_facts, mut by_visit) = (0, 0);
                    assert_eq!(
                        header.admits_read(trigger, facts, &rule.when, &rule.then, &mut by_facts),
                        header.admits(trigger, &rule.when, &rule.then, &mut by_visit),
                        "{file} {}",
                        rule.id
                    );
                    assert_eq!(by_facts, by_visit);
                    tested += 1;
                }
            }
        }
    }
    assert!(tested > 100, "{tested}");
}

/// A header that leaves out what a rule consults, or a product tag it tests, does not admit
/// the rule (the Function then refuses the policy rather than decide on less of its input
/// than the service would).
#[test]
fn a_header_that_leaves_something_out_is_caught() {
    let source = r#"
id = "p"
name = "P"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Oslo"
triggers = ["customer_request"]

[default]
deny = {}

[[rule]]
id = "young"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 60 } }
then.allow = { reason = "CUSTOMER", refund = "original" }

[[rule]]
id = "gift"
on = ["customer_request"]
when.lines.any = { product_tags = { any_of = ["gift"] } }
then.deny = {}
"#;
    let policy = compile(source, "p.toml").policy.unwrap();
    let header = policy.function_header();
    let trigger = Trigger::CustomerRequest;
    assert!(
        header
            .needs_of(trigger)
            .has(InputNeeds::PLACED | InputNeeds::LINE_PRODUCT)
    );
    assert_eq!(header.product_tags, ["gift"]);
    let [young, gift] = [&policy.rules[0], &policy.rules[1]];
    let mut no_placed = header.clone();
    no_placed.needs[trigger as usize] &= !InputNeeds::PLACED;
    assert_eq!(
        no_placed.admits(trigger, &young.when, &young.then, &mut 0),
        Err(NotAdmitted::Needs)
    );
    assert_eq!(
        no_placed.admits(trigger, &gift.when, &gift.then, &mut 0),
        Ok(())
    );
    let other_tags = FunctionHeader {
        product_tags: vec!["engraved".into()],
        ..header.clone()
    };
    assert_eq!(
        other_tags.admits(trigger, &gift.when, &gift.then, &mut 0),
        Err(NotAdmitted::ProductTags)
    );
    // The header as the stream reads it is the one written.
    let json = policy.to_json();
    let written = CompiledPolicy::stream(&json, trigger).unwrap().0;
    assert_eq!(
        FunctionHeader {
            after_rules: [0, 0],
            ..written.clone()
        },
        header
    );
    let old = json.replacen(
        &format!(r#""h":{},"#, serde_json::to_string(&written).unwrap()),
        "",
        1,
    );
    assert_ne!(old, json);
    // A text without the header (as written before it existed) is read through once to work
    // it out, then streamed: the same header (but where the text after the rules starts) and
    // the same decisions.
    assert_eq!(CompiledPolicy::stream(&old, trigger).unwrap().0, header);
    for minutes in [5, 90] {
        let facts = some_facts(minutes, Some("en"));
        let expected = evaluate(&policy, &facts, now(), trigger);
        assert_eq!(streamed(&old, &facts, now(), trigger).unwrap().0, expected);
    }
    assert_eq!(CompiledPolicy::load(&old).unwrap(), policy);
    assert_eq!(
        CompiledPolicy::read_compiled_for(&old, None, trigger).unwrap(),
        policy
    );
}

/// A rule the stream reaches that is not as `to_json` writes it is refused with where reading
/// stopped; the rules after the deciding one are passed over unchecked.
#[test]
fn the_stream_checks_what_it_reads() {
    let json = |rules: &str| {
        format!(
            r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","h":{{"n":[0,0,0,0,0,0,0],"pt":[],"pa":true,"at":[0,0]}},"r":[{rules}],"d":{{"k":"deny","msg":"no"}},"m":{{"en":{{"no":"No.","yes":"Yes."}},"fr":{{"no":"Non."}}}}}}"#
        )
    };
    let allow = r#"{"id":"a","t":1,"o":{"k":"allow","msg":"yes"}}"#;
    let broken = r#"{"id":"b","t":1,"w":[{"f":["no_such_fact",{"is":true}]}],"o":{"k":"deny"}}"#;
    let not_json = r#"{"id":"b","t":1,"w":[}"#;
    let facts = some_facts(5, Some("en"));
    let trigger = Trigger::CustomerRequest;
    // After the deciding rule: checked as JSON only.
    let text = json(&format!("{allow},{broken}"));
    let (decision, read) = streamed(&text, &facts, now(), trigger).unwrap();
    assert_eq!(read, 1);
    assert_eq!(decision.message.unwrap().text, "Yes.");
    assert!(CompiledPolicy::load(&text).is_err());
    // Passed over unchecked: a rule that is not JSON at all after the deciding one does not
    // change the decision (it is scanned for brackets only), and brackets that do not pair
    // up are refused when the text after the rules is not where they say.
    let not_checked = r#"{"id":"b","t":1,"w":[tru, 'x', "]}"],"o":{k:deny}}"#;
    let text = json(&format!("{allow},{not_checked}"));
    assert!(CompiledPolicy::load(&text).is_err());
    let (decision, _) = streamed(&text, &facts, now(), trigger).unwrap();
    assert_eq!(decision.rule.as_deref(), Some("a"));
    let text = json(&format!("{allow},{not_json}"));
    assert!(matches!(
        streamed(&text, &facts, now(), trigger),
        Err(LoadError::Invalid { .. })
    ));
    for cut in 0..text.len() {
        let _ = streamed(&text[..cut], &facts, now(), trigger);
    }
    // Reached: refused, saying where.
    let text = json(&format!("{broken},{allow}"));
    let at = text.find("no_such_fact").unwrap();
    match streamed(&text, &facts, now(), trigger) {
        Err(LoadError::Invalid { at: stopped, .. }) => {
            assert!(stopped >= at && stopped < at + 20, "{stopped} {at}")
        }
        other => panic!("{other:?}"),
    }
    // No rule decides: the default and its message.
    let (decision, read) = streamed(&json(""), &some_facts(5, Some("fr")), now(), trigger).unwrap();
    assert_eq!(read, 0);
    let message = decision.message.unwrap();
    assert_eq!(
        (message.locale.as_str(), message.text.as_str()),
        ("fr", "Non.")
    );
    // Another trigger's rules are passed over.
    let (_, read) = streamed(
        &json(&format!("{allow},{allow}")),
        &facts,
        now(),
        Trigger::StaffRequest,
    )
    .unwrap();
    assert_eq!(read, 0);
    // Something after the messages is refused.
    let text = json(allow).replacen(r#""Non."}}}"#, r#""Non."}},"x":1}"#, 1);
    assert!(text.contains(r#""x":1"#), "{text}");
    assert!(streamed(&text, &facts, now(), trigger).is_err(), "{text}");
    // The id, version and time zone are checked as strings, not kept (no decision names
    // them): anything else there is refused; an escape is read.
    for (field, other) in [
        (r#""id":"p""#, r#""id":5"#),
        (r#""ver":"1""#, r#""ver":null"#),
        (r#""tz":"UTC""#, r#""tz":["UTC"]"#),
    ] {
        let text = json(allow).replacen(field, other, 1);
        assert!(text.contains(other), "{text}");
        assert!(streamed(&text, &facts, now(), trigger).is_err(), "{text}");
    }
    let text = json(allow).replacen(r#""id":"p""#, r#""id":"p\u0041\"q""#, 1);
    let (decision, _) = streamed(&text, &facts, now(), trigger).unwrap();
    assert_eq!(decision.rule.as_deref(), Some("a"));
}

/// A text cut anywhere in its messages is refused with a `LoadError` or, where the decision
/// shows no message (the messages are then passed over), decided as the whole text: never a
/// panic, never another decision.
#[test]
fn a_text_cut_in_its_messages_is_refused_or_decided_alike() {
    let mut unshown = 0;
    for (file, policy) in presets() {
        let json = policy.to_json();
        let messages_at = json.rfind(r#","m":{"#).unwrap();
        for trigger in Trigger::ALL {
            for minutes in [5, 3000] {
                for locale in [None, Some("de-CH")] {
                    let facts = some_facts(minutes, locale);
                    let expected = evaluate(&policy, &facts, now(), trigger);
                    let (whole, _) = streamed(&json, &facts, now(), trigger).unwrap();
                    assert_eq!(whole, expected, "{file}");
                    let decisive = match &expected.rule {
                        Some(id) => &policy.rules.iter().find(|r| r.id == *id).unwrap().then,
                        None => &policy.default,
                    };
                    unshown += usize::from(decisive.message.is_none());
                    for cut in messages_at..json.len() {
                        // (A `&str` is cut between characters; the Function's input is text.)
                        if !json.is_char_boundary(cut) {
                            continue;
                        }
                        if let Ok((decision, _)) = streamed(&json[..cut], &facts, now(), trigger) {
                            assert_eq!(decision, expected, "{file} cut at {cut}");
                        }
                    }
                }
            }
        }
    }
    assert!(unshown > 0, "no decision without a message was tried");
}

/// `to_json` writes before each rule's outcome its length in bytes (`ol`); the stream passes
/// over the outcome of a rule whose conditions fail by it, and reads it from there when the
/// rule decides. Where `ol` does not point at the end of an outcome as `to_json` writes one,
/// the outcome is read in place: the decisions are those of the policy, whatever `ol` says.
#[test]
fn outcomes_are_passed_over_by_their_length() {
    for (file, policy) in presets() {
        let json = policy.to_json();
        // Each `ol` is its outcome's length.
        let mut rules = 0;
        for (at, _) in json.match_indices(r#","ol":"#) {
            let digits: String = json[at + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let start = at + 6 + digits.len() + r#","o":"#.len();
            let end = start + digits.parse::<usize>().unwrap();
            let outcome: Outcome = serde_json::from_str(&json[start..end]).unwrap();
            assert_eq!(outcome, policy.rules[rules].then, "{file}");
            rules += 1;
        }
        assert_eq!(rules, policy.rules.len(), "{file}");
        let with_ol = |value: &str| {
            let mut out = String::new();
            let mut rest = json.as_str();
            while let Some(at) = rest.find(r#","ol":"#) {
                let digits = rest[at + 6..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                out.push_str(&rest[..at]);
                out.push_str(value);
                rest = &rest[at + 6 + digits..];
            }
            out.push_str(rest);
            out
        };
        // The same decisions with `ol` left out (as written before it existed), or not an
        // outcome's length, or not a number.
        let others = [
            with_ol(""),
            with_ol(r#","ol":0"#),
            with_ol(r#","ol":1"#),
            with_ol(r#","ol":999999999"#),
            with_ol(r#","ol":-1"#),
            with_ol(r#","ol":"x""#),
            with_ol(r#","ol":[1,{"k":2}]"#),
        ];
        for trigger in Trigger::ALL {
            for minutes in [5, 90, 3000] {
                let facts = some_facts(minutes, Some("en"));
                let expected = evaluate(&policy, &facts, now(), trigger);
                for text in &others {
                    let (decision, _) = streamed(text, &facts, now(), trigger).unwrap();
                    assert_eq!(decision, expected, "{file} {trigger:?}: {text}");
                }
            }
        }
    }
}

/// The outcome of a rule whose conditions fail is passed over unread: damage there does not
/// change the decision (as with the rules after the deciding one), while a rule that decides
/// has its outcome read and checked.
#[test]
fn a_passed_over_outcome_is_not_read() {
    let json = |outcome: &str| {
        let len = outcome.len();
        format!(
            r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","h":{{"n":[0,0,0,0,0,0,0],"pt":[],"pa":true,"at":[0,0]}},"r":[{{"id":"b2b","t":1,"w":[{{"f":["b2b",{{"is":true}}]}}],"ol":{len},"o":{outcome}}},{{"id":"a","t":1,"ol":13,"o":{{"k":"allow"}}}}],"d":{{"k":"deny"}}}}"#
        )
    };
    let trigger = Trigger::CustomerRequest;
    let mut facts = some_facts(5, Some("en"));
    let damaged = json(r#"{"k":"no_such_kind","rs":7}"#);
    assert!(CompiledPolicy::load(&damaged).is_err());
    let (decision, read) = streamed(&damaged, &facts, now(), trigger).unwrap();
    assert_eq!((decision.rule.as_deref(), read), (Some("a"), 2));
    // When the rule decides, its outcome is read: refused, saying where.
    facts.order.b2b = true;
    let at = damaged.find("no_such_kind").unwrap();
    match streamed(&damaged, &facts, now(), trigger) {
        Err(LoadError::Invalid { at: stopped, .. }) => assert!(stopped >= at - 1, "{stopped}"),
        other => panic!("{other:?}"),
    }
    let sound = json(r#"{"k":"cancel","rs":"CUSTOMER"}"#);
    let policy = CompiledPolicy::load(&sound).unwrap();
    let (decision, _) = streamed(&sound, &facts, now(), trigger).unwrap();
    assert_eq!(decision, evaluate(&policy, &facts, now(), trigger));
    assert_eq!(decision.rule.as_deref(), Some("b2b"));
}

/// A quantity that only names the lines a `cancel_lines` decision cancels is its own need
/// (the Function reads it for those lines only); one a condition tests is read for every
/// line, and a header that says otherwise refuses the rule that tests it.
#[test]
fn quantities_that_only_name_lines_are_a_need_of_their_own() {
    let (_, oversell) = presets()
        .into_iter()
        .find(|(file, _)| file.starts_with("oversell"))
        .unwrap();
    let needs = oversell.function_header().needs_of(Trigger::OrderCreated);
    assert!(needs.has(InputNeeds::LINE_QUANTITY_NAMED | InputNeeds::LINE_ID));
    assert!(!needs.has(InputNeeds::LINE_QUANTITY));
    assert!(LineInputs::of_needs(needs).with_quantity);

    let source = r#"
id = "q"
name = "Q"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "UTC"
triggers = ["order_created"]

[default]
cancel_lines = { where = { oversold = true }, reason = "INVENTORY" }

[[rule]]
id = "big"
on = ["order_created"]
when = { lines.any = { quantity = { ge = 10 } } }
then.deny = {}
"#;
    let policy = compile(source, "q.toml").policy.unwrap();
    let mut header = policy.function_header();
    let trigger = Trigger::OrderCreated;
    assert!(header.needs_of(trigger).has(InputNeeds::LINE_QUANTITY));
    let rule = &policy.rules[0];
    assert_eq!(
        header.admits(trigger, &rule.when, &rule.then, &mut 0),
        Ok(())
    );
    header.needs[trigger as usize] &= !InputNeeds::LINE_QUANTITY;
    header.needs[trigger as usize] |= InputNeeds::LINE_QUANTITY_NAMED;
    assert_eq!(
        header.admits(trigger, &rule.when, &rule.then, &mut 0),
        Err(NotAdmitted::Needs)
    );
}

/// The stream leaves out a rule of another trigger whatever it tests: past its `t`, its
/// conditions are checked as JSON only and its outcome passed over by `ol`, unchecked, as a
/// non-deciding rule's is. Text that is not JSON there, or a repeated key, is still refused;
/// for the rule's own trigger, the damaged outcome is read and refused.
#[test]
fn another_triggers_rules_are_passed_over() {
    let json = |when: &str, outcome: &str| {
        let len = outcome.len();
        format!(
            r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","h":{{"n":[0,0,0,0,0,0,0],"pt":[],"pa":true,"at":[0,0]}},"r":[{{"id":"staff","t":2,"w":{when},"ol":{len},"o":{outcome}}},{{"id":"a","t":1,"ol":13,"o":{{"k":"allow"}}}}],"d":{{"k":"deny"}}}}"#
        )
    };
    let facts = some_facts(5, Some("en"));
    let sound_when = r#"[{"l":["any",[{"f":["product_tags",{"anyof":["x"]}]}]]}]"#;
    // (Not even JSON: passed over unchecked.)
    let damaged = json(sound_when, r#"{"k":"no_such_kind","rs":[7}"#);
    assert!(CompiledPolicy::load(&damaged).is_err());
    let (decision, read) = streamed(&damaged, &facts, now(), Trigger::CustomerRequest).unwrap();
    assert_eq!((decision.rule.as_deref(), read), (Some("a"), 1));
    // For its own trigger the rule is read: its outcome refused once its conditions hold.
    let mut tagged = facts.clone();
    tagged.order.line_items = vec![LineFacts {
        product_tags: vec!["x".to_string()],
        ..LineFacts::default()
    }];
    assert!(matches!(
        streamed(&damaged, &tagged, now(), Trigger::StaffRequest),
        Err(LoadError::Invalid { .. })
    ));
    // A sound policy: the decisions of `evaluate` for both triggers.
    let sound = json(sound_when, r#"{"k":"cancel","rs":"STAFF"}"#);
    let policy = CompiledPolicy::load(&sound).unwrap();
    for trigger in [Trigger::CustomerRequest, Trigger::StaffRequest] {
        for facts in [&facts, &tagged] {
            let (decision, _) = streamed(&sound, facts, now(), trigger).unwrap();
            assert_eq!(decision, evaluate(&policy, facts, now(), trigger));
        }
    }
    // Conditions that are not JSON are refused for any trigger, and so is a repeated key (as
    // the stream refuses one in a rule of its own trigger).
    let not_json = json(r#"[{"f":["b2b",{"is":tru}]}]"#, r#"{"k":"allow"}"#);
    assert!(CompiledPolicy::load(&not_json).is_err());
    let repeated = sound.replacen(r#""ol":"#, r#""w":[],"ol":"#, 1);
    for text in [&not_json, &repeated] {
        for trigger in [Trigger::CustomerRequest, Trigger::StaffRequest] {
            assert!(streamed(text, &facts, now(), trigger).is_err(), "{text}");
        }
    }
}

/// `to_json` writes a `cancel_lines` outcome's line selector right after its kind, and the
/// stream reads that far to learn whether the rule selects any line: a rule that selects
/// none is passed over without the rest of its outcome (damage there does not change the
/// decision); one that selects lines is read whole (and damage there refused).
#[test]
fn a_cancel_lines_rule_that_selects_no_line_is_known_by_its_selector() {
    let source = r#"
id = "o"
name = "O"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "UTC"
triggers = ["order_created"]

[default]
deny = {}

[[rule]]
id = "oversold"
on = ["order_created"]
then.cancel_lines = { where = { oversold = true }, reason = "INVENTORY", notify = true, message = "sorry" }

[messages.en]
sorry = "Sorry."
"#;
    let policy = compile(source, "o.toml").policy.unwrap();
    let json = policy.to_json();
    assert!(
        json.contains(r#""o":{"k":"cancel_lines","ln":[{"f":["oversold",{"is":true}]}],"rs":"#),
        "{json}"
    );
    let trigger = Trigger::OrderCreated;
    let line = |oversold: bool| LineFacts {
        id: "gid://shopify/LineItem/1".to_string(),
        quantity: 1,
        inventory_policy: Some("CONTINUE".to_string()),
        inventory_quantity: Some(if oversold { -1 } else { 3 }),
        ..LineFacts::default()
    };
    let mut facts = some_facts(5, Some("en"));
    facts.order.line_items = vec![line(false), line(false)];
    // The selector read, the rest of the outcome not: `"n":"ab"` is no boolean (and as
    // long as `true`, so that the outcome still ends where `ol` says).
    let damaged = json.replace(r#""n":true"#, r#""n":"ab""#);
    assert_ne!(damaged, json);
    assert!(CompiledPolicy::load(&damaged).is_err());
    let (decision, _) = streamed(&damaged, &facts, now(), trigger).unwrap();
    assert_eq!(decision, evaluate(&policy, &facts, now(), trigger));
    assert_eq!(decision.rule, None);
    // A line oversold: the rule decides, read whole; the damage is refused.
    facts.order.line_items[1] = line(true);
    assert!(streamed(&damaged, &facts, now(), trigger).is_err());
    let (decision, _) = streamed(&json, &facts, now(), trigger).unwrap();
    assert_eq!(decision, evaluate(&policy, &facts, now(), trigger));
    assert_eq!(decision.rule.as_deref(), Some("oversold"));
}
