//! The shipped presets, embedded so the binary works without the repository beside it.

/// (file stem, TOML source) of every preset in `presets/`.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "b2b-net-terms",
        include_str!("../presets/b2b-net-terms.toml"),
    ),
    ("daily-cutoff", include_str!("../presets/daily-cutoff.toml")),
    (
        "eu-withdrawal",
        include_str!("../presets/eu-withdrawal.toml"),
    ),
    ("fraud-first", include_str!("../presets/fraud-first.toml")),
    (
        "made-to-order",
        include_str!("../presets/made-to-order.toml"),
    ),
    (
        "one-hour-grace",
        include_str!("../presets/one-hour-grace.toml"),
    ),
    ("oversell", include_str!("../presets/oversell.toml")),
    (
        "subscriptions-preorders",
        include_str!("../presets/subscriptions-preorders.toml"),
    ),
];

/// The TOML source of the preset named `name`.
pub fn source(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(stem, _)| *stem == name)
        .map(|(_, source)| *source)
}
