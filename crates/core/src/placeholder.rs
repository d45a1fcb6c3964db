//! The `{…}` placeholders a staff note may hold, filled in when a decision writes the note.
//! One list: the evaluator fills them, and the Function reads the facts they name.

/// A staff-note placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// The id of the rule that decided (`default` for the default).
    Rule,
    /// The order's id.
    Order,
    /// The cancellation reason.
    Reason,
    /// The order's highest risk level.
    RiskLevel,
    /// The reason the requester gave (`none`).
    RequestReason,
}

impl Placeholder {
    /// Every placeholder, in the order they are filled in (a value that holds a later
    /// placeholder gets it filled in too).
    pub const ALL: [Placeholder; 5] = [
        Placeholder::Rule,
        Placeholder::Order,
        Placeholder::Reason,
        Placeholder::RiskLevel,
        Placeholder::RequestReason,
    ];

    /// Its text in a note, braces included.
    pub fn text(self) -> &'static str {
        match self {
            Placeholder::Rule => "{rule}",
            Placeholder::Order => "{order}",
            Placeholder::Reason => "{reason}",
            Placeholder::RiskLevel => "{risk_level}",
            Placeholder::RequestReason => "{request_reason}",
        }
    }

    /// The placeholder whose text is `{name}` (one match, not a comparison per placeholder:
    /// smaller in the Function's module).
    fn named(name: &[u8]) -> Option<Placeholder> {
        match name {
            b"rule" => Some(Placeholder::Rule),
            b"order" => Some(Placeholder::Order),
            b"reason" => Some(Placeholder::Reason),
            b"risk_level" => Some(Placeholder::RiskLevel),
            b"request_reason" => Some(Placeholder::RequestReason),
            _ => None,
        }
    }

    /// The placeholders `note` holds, in one pass over its bytes (a substring search per
    /// placeholder costs the Function about a thousand instructions each).
    pub fn in_note(note: &str) -> impl Iterator<Item = Placeholder> + '_ {
        note.as_bytes()
            .split(|byte| *byte == b'{')
            .skip(1)
            .filter_map(|rest| {
                let end = rest.iter().position(|byte| *byte == b'}')?;
                Placeholder::named(rest.get(..end)?)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Placeholder;

    #[test]
    fn each_placeholder_is_named_by_its_text() {
        for placeholder in Placeholder::ALL {
            let text = placeholder.text().as_bytes();
            let name = text.strip_prefix(b"{").and_then(|t| t.strip_suffix(b"}"));
            assert_eq!(name.and_then(Placeholder::named), Some(placeholder));
        }
    }

    #[test]
    fn placeholders_are_the_known_names_between_braces() {
        let found = |note| Placeholder::in_note(note).collect::<Vec<_>>();
        assert_eq!(
            found("By {rule}: {reason}, risk {risk_level}, {order}."),
            [
                Placeholder::Rule,
                Placeholder::Reason,
                Placeholder::RiskLevel,
                Placeholder::Order
            ]
        );
        assert_eq!(
            found("{request_reason}} {open {unknown} {rules}"),
            [Placeholder::RequestReason]
        );
        assert!(found("no placeholder } here").is_empty());
    }
}
