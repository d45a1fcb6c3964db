//! [`CompiledPolicy::read`]: a hand-written, single-pass JSON reader for the compiled policy.
//!
//! The Shopify Function reads its policy before it tries any rule, so every instruction spent
//! here is spent on every run. This reader knows the one shape it reads and goes straight from
//! the text to the policy: keys are matched by their bytes, strings without escapes are found
//! eight bytes at a time and copied once, small integers and short decimals are converted without
//! the float parser, a failure is carried in the reader rather than in every result, and there is
//! no intermediate `serde_json::Value`. (In a Wasm build like the Function's, opt-level "z" with a
//! bump allocator, a 1.8 kB preset takes about 44,000 instructions here, 72,000 with
//! `serde_json::from_str` and 143,000 with `load`. What remains is spread thin: some 60
//! instructions per key, 90 per allocation, 4 per byte of a string; building the policy costs
//! little more than checking the same text as JSON.)
//!
//! It accepts exactly what [`CompiledPolicy::load`] accepts and gives the same policy:
//! whitespace anywhere, keys in any order, unknown keys skipped (any JSON value), a repeated key
//! counting for its last value, `null` for an `Option`, defaults for missing `#[serde(default)]`
//! fields, externally tagged enums as serde derives them (`"unit"`, `{"unit": null}`,
//! `{"variant": payload}`), and, like `serde_json`, a struct nested in the policy (a rule, an
//! outcome) also as an array of its fields. Strings are decoded and numbers converted exactly as
//! `serde_json` (with `float_roundtrip`) does, and nesting stops at the same depth (127).
//!
//! Errors mirror `load`: a document that is not JSON is [`LoadError::Invalid`]; a JSON document
//! whose top-level `v` is not a non-negative integer (or is missing) is
//! [`LoadError::MissingVersion`]; one whose `v` is another integer is
//! [`LoadError::UnsupportedVersion`], whatever the rest holds; any other problem is
//! [`LoadError::Invalid`] with the byte where it was found.
//!
//! The common case, a policy as `to_json` writes it (whitespace and key order aside), is read
//! by the fast path in `fast.rs`, which gives up at the first byte of anything else. The full
//! reader below then reads the text in one pass (its helpers are not forced inline: it runs
//! only for unusual texts and errors, and inlining them cost more module size than the fast path
//! takes). Only when that fails is the text read again, without building anything, to tell which
//! error applies; and a value of the wrong shape that a repeated key replaced is passed over by
//! counting brackets, then the whole text is checked the same way. Every path is linear in the
//! text.

use std::borrow::Cow;
use std::cell::Cell;

use super::{
    CompiledPolicy, Condition, FORMAT_VERSION, FactSet, FunctionHeader, LoadError, Quantifier,
    Rule, Test, Trigger,
};
use crate::catalog::Fact;
use crate::eval::message_locales;
use crate::outcome::{CancelReason, Fee, Outcome, OutcomeKind, RefundMethod};
use crate::text_map::TextMap;

mod decimal;
mod fast;

pub use fast::{PolicyStream, StreamEnd, StreamedRule};

/// Locale → message key → text.
type Messages = TextMap<TextMap<String>>;

/// `serde_json` refuses the 128th nested array or object.
const MAX_DEPTH: u32 = 127;

/// The problem [`CompiledPolicy::read_compiled_for`] reports for any text it does not read.
const NOT_COMPILED_FORM: &str = "not a compiled policy in the form `cancel-policy compile` writes";

impl CompiledPolicy {
    /// Reads a compiled policy from its JSON text without `serde_json`: the same policy as
    /// [`CompiledPolicy::load`] for every text `load` accepts, and the same kind of error for
    /// every text it refuses ([`LoadError::Invalid`], saying what and at which byte, where
    /// `load` gives [`LoadError::Json`]), for a small fraction of the instructions.
    ///
    /// Never panics, and its recursion is bounded by the nesting limit.
    pub fn read(json: &str) -> Result<Self, LoadError> {
        Self::read_with(json, None)
    }

    /// [`CompiledPolicy::read`] for one decision, keeping only the messages that a request in
    /// `locale` can be shown: those of the locales [`message_locales`] lists and of the
    /// policy's default locale. The others are passed over (checked as JSON only), which
    /// spares the Function most of the policy's text. A decision for such a request, made
    /// without a fallback locale, is the same as with the whole policy.
    pub fn read_for_locale(json: &str, locale: Option<&str>) -> Result<Self, LoadError> {
        Self::read_with(json, Some(message_locales(locale, None)))
    }

    /// The Shopify Function's read: what one decision for `trigger`, asked in `locale`, can
    /// use, from a policy as [`CompiledPolicy::to_json`] writes it (the only writer of the
    /// metafield is `cancel-policy compile` or the service, both through `to_json`).
    ///
    /// Only the fast path reads: any other form (and text that is not JSON) is refused with
    /// [`LoadError::Invalid`] at the byte where reading stopped, and a `v` other than
    /// [`FORMAT_VERSION`] with [`LoadError::UnsupportedVersion`]. So the full reader is not
    /// part of a build that calls only this (the Function's module).
    ///
    /// Messages are kept as [`CompiledPolicy::read_for_locale`] keeps them. The rules whose
    /// triggers leave out `trigger` cannot decide, so they are checked as JSON and left out
    /// of the policy, except those that test `product_tags` (the Function matches Shopify's
    /// `hasTags` answers by position in [`CompiledPolicy::input_variables`], which lists the
    /// tags of every rule); the rules kept are in their order.
    pub fn read_compiled_for(
        json: &str,
        locale: Option<&str>,
        trigger: Trigger,
    ) -> Result<Self, LoadError> {
        let only_locales = message_locales(locale, None);
        let mut reader = Reader::new(json);
        fast::policy(&mut reader, Some(&only_locales), Some(trigger.bit())).map_err(|stop| {
            match stop {
                fast::GaveUp::Version(found) => LoadError::UnsupportedVersion { found },
                fast::GaveUp::At(at) => LoadError::Invalid {
                    at,
                    problem: NOT_COMPILED_FORM.to_string(),
                },
            }
        })
    }

    /// The Shopify Function's read, one rule at a time: from a policy as
    /// [`CompiledPolicy::to_json`] writes it (whitespace aside), the header and a stream at the
    /// first rule, having read only what comes before the rules. The run reads its input for
    /// what the header says the trigger needs, then takes the trigger's rules from the stream
    /// until one decides ([`PolicyStream::next_rule`]), then the rest
    /// ([`PolicyStream::finish`]).
    ///
    /// A text without the header (written before it existed) is read once through to work it
    /// out ([`CompiledPolicy::function_header`]), every rule read whole whatever its trigger,
    /// then streamed the same way. Any other form is refused with [`LoadError::Invalid`] at
    /// the byte where reading stopped, and a `v` other than [`FORMAT_VERSION`] with
    /// [`LoadError::UnsupportedVersion`].
    pub fn stream(
        json: &str,
        trigger: Trigger,
    ) -> Result<(FunctionHeader, PolicyStream<'_>), LoadError> {
        PolicyStream::open(json, trigger.bit())
    }

    /// For tests: [`CompiledPolicy::read_for_locale`] (`locale` given) or
    /// [`CompiledPolicy::read`] by the fast path alone, `None` where it leaves the text to the
    /// full reader.
    #[doc(hidden)]
    pub fn read_by_fast_path(json: &str, locale: Option<Option<&str>>) -> Option<Self> {
        let only_locales = locale.map(|locale| message_locales(locale, None));
        fast::policy(&mut Reader::new(json), only_locales.as_deref(), None).ok()
    }

    /// For tests: the same by the full reader alone.
    #[doc(hidden)]
    pub fn read_by_full_path(json: &str, locale: Option<Option<&str>>) -> Result<Self, LoadError> {
        let only_locales = locale.map(|locale| message_locales(locale, None));
        Self::read_fully(json, only_locales)
    }

    fn read_with(json: &str, only_locales: Option<Vec<String>>) -> Result<Self, LoadError> {
        // Most texts are policies as `to_json` writes them: read straight into the policy.
        if let Ok(policy) = fast::policy(&mut Reader::new(json), only_locales.as_deref(), None) {
            return Ok(policy);
        }
        Self::read_fully(json, only_locales)
    }

    /// Any text: the policy, or the error `load` would give.
    fn read_fully(json: &str, only_locales: Option<Vec<String>>) -> Result<Self, LoadError> {
        let mut reader = Reader::new(json);
        reader.only_locales = only_locales;
        let fault = match reader.policy() {
            Ok(policy) if !reader.resynced => return Ok(policy),
            Ok(policy) => {
                // A repeated key replaced a value of the wrong shape, which was passed over
                // without checking it: check the whole text.
                let mut check = Reader::new(json);
                return match check.survey() {
                    Ok(_) => Ok(policy),
                    Err(Stop) => Err(check.take_fault().into()),
                };
            }
            Err(Stop) => reader.take_fault(),
        };
        // The slow path, for errors only: is it JSON at all, and which version does it claim?
        let mut survey = Reader::new(json);
        match survey.survey() {
            Err(Stop) => Err(survey.take_fault().into()),
            Ok(Version::Number(v)) if v == u64::from(FORMAT_VERSION) => Err(fault.into()),
            Ok(Version::Number(found)) => Err(LoadError::UnsupportedVersion { found }),
            Ok(Version::Absent | Version::Other) => Err(LoadError::MissingVersion),
        }
    }
}

/// What went wrong, and where.
#[derive(Debug)]
struct Fault {
    at: usize,
    problem: Cow<'static, str>,
}

impl From<Fault> for LoadError {
    fn from(fault: Fault) -> Self {
        LoadError::Invalid {
            at: fault.at,
            problem: fault.problem.into_owned(),
        }
    }
}

/// Reading stopped: the reader holds the [`Fault`]. (A result this small is returned in
/// registers, where one carrying the fault would go through memory at every call.)
struct Stop;

type Read<T> = Result<T, Stop>;

/// The top-level `v`, as `load` sees it (`Value::as_u64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Absent,
    Number(u64),
    /// Present but not an integer in `u64`: a string, a decimal, a negative number, ...
    Other,
}

/// A field being read: like `Option`, but a value of the wrong shape is kept as an error
/// rather than returned at once, because a later occurrence of the same key replaces it (as in
/// the `serde_json::Value` that `load` goes through).
enum Slot<T> {
    Missing,
    Got(T),
    Bad(Option<Fault>),
}

impl<T> Slot<T> {
    fn required(self, r: &Reader<'_>, at: usize, name: &'static str) -> Read<T> {
        match self {
            Slot::Got(value) => Ok(value),
            Slot::Bad(fault) => Err(r.restore(fault)),
            Slot::Missing => Err(r.fault_at(at, format!("missing field `{name}`"))),
        }
    }

    fn or_default(self, r: &Reader<'_>) -> Read<T>
    where
        T: Default,
    {
        match self {
            Slot::Got(value) => Ok(value),
            Slot::Bad(fault) => Err(r.restore(fault)),
            Slot::Missing => Ok(T::default()),
        }
    }
}

/// An enum variant's name, where it is, and whether a payload follows (`{"name": payload}`)
/// or not (`"name"`).
struct Tag<'t> {
    name: &'t str,
    at: usize,
    payload: bool,
}

/// A number's text, checked against JSON's grammar, and its digits as an integer.
struct Number {
    start: usize,
    end: usize,
    negative: bool,
    /// Neither a fraction nor an exponent.
    integer: bool,
    exponent: bool,
    /// All the digits (integer and fraction) as one integer, unless `overflow`.
    digits: u64,
    overflow: bool,
    /// Digits after the decimal point.
    fraction: u32,
}

/// Powers of ten that are exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

impl Number {
    fn as_u64(&self) -> Option<u64> {
        (self.integer && !self.negative && !self.overflow).then_some(self.digits)
    }

    /// The nearest `f64`, as `serde_json` with `float_roundtrip` (and `str::parse`) finds it.
    fn to_f64(&self, text: &str) -> Result<f64, &'static str> {
        // Both operands exact, so the one rounding of the division is the correct one.
        if !self.exponent
            && !self.overflow
            && self.digits <= 1 << 53
            && let Some(scale) = POW10.get(self.fraction as usize)
        {
            let value = self.digits as f64 / scale;
            return Ok(if self.negative { -value } else { value });
        }
        let value = text
            .as_bytes()
            .get(self.start..self.end)
            .map(decimal::parse)
            .ok_or("invalid number")?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err("number out of range")
        }
    }
}

/// The index of the first byte at or after `i` that ends a run of plain string bytes: `"`,
/// `\` or a control character; `bytes.len()` if none. Eight bytes per step (Mycroft's trick, as
/// `serde_json` does): the lowest flagged byte is always a true one.
#[inline(always)]
fn plain_run_end(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES << 7;
    let special = |word: u64| {
        // Flipping bit 1 maps the control characters and `"` (0x22), and only them, to the
        // bytes below 0x21: one test for both.
        let flipped = word ^ (ONES * 0x02);
        let control_or_quote = flipped.wrapping_sub(ONES * 0x21) & !flipped;
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let backslash = backslash.wrapping_sub(ONES) & !backslash;
        (control_or_quote | backslash) & HIGHS
    };
    // Whole words from `i` (one bound check per word, not one per slice).
    if let Some(rest) = bytes.get(i..) {
        let mut words = rest.chunks_exact(8);
        for chunk in words.by_ref() {
            let Some(word) = chunk.first_chunk::<8>() else {
                break;
            };
            let found = special(u64::from_le_bytes(*word));
            if found != 0 {
                return i + (found.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

fn hex_digit(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    /// Why reading stopped, once it has.
    fault: Cell<Option<Fault>>,
    /// Whether a value was passed over by [`Reader::resync`] (so the text may not be JSON).
    resynced: bool,
    /// Messages to keep besides the default locale's; `None` keeps them all.
    only_locales: Option<Vec<String>>,
    /// The facts the fast reader's conditions named since [`PolicyStream`] last cleared it.
    facts: FactSet,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
            fault: Cell::new(None),
            resynced: false,
            only_locales: None,
            facts: FactSet::default(),
        }
    }

    #[cold]
    fn fault_at(&self, at: usize, problem: impl Into<Cow<'static, str>>) -> Stop {
        self.fault.set(Some(Fault {
            at,
            problem: problem.into(),
        }));
        Stop
    }

    fn restore(&self, fault: Option<Fault>) -> Stop {
        self.fault.set(fault);
        Stop
    }

    fn take_fault(&mut self) -> Fault {
        self.fault.take().unwrap_or(Fault {
            at: self.pos,
            problem: Cow::Borrowed("invalid"),
        })
    }

    /// At the current byte: the end of the text, or what was expected there instead.
    #[cold]
    fn expected(&self, what: &'static str) -> Stop {
        if self.pos >= self.bytes.len() {
            self.fault_at(self.pos, "unexpected end of the text")
        } else {
            self.fault_at(self.pos, format!("expected {what}"))
        }
    }

    /// Skips whitespace and returns the next byte, without taking it.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) if b > b' ' => Some(b),
            _ => self.peek_past_whitespace(),
        }
    }

    fn peek_past_whitespace(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn end(&mut self) -> Read<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.fault_at(self.pos, "trailing characters")),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> bool {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Takes a `null` if one comes next.
    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.literal(b"null")
    }

    /// Takes the `[` or `{` at the current byte.
    #[inline(always)]
    fn enter(&mut self) -> Read<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fault_at(self.pos, "nesting deeper than 127 levels"));
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    #[inline(always)]
    fn leave(&mut self) {
        self.pos += 1;
        self.depth = self.depth.saturating_sub(1);
    }

    /// After `[`: whether an element follows (else the `]` is taken).
    fn first_element(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b']') => {
                self.leave();
                Ok(false)
            }
            Some(_) => Ok(true),
            None => Err(self.expected("a value or `]`")),
        }
    }

    /// After an element: whether another follows (`,`) or the array ends (`]`, taken).
    fn next_element(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => {
                self.leave();
                Ok(false)
            }
            _ => Err(self.expected("`,` or `]`")),
        }
    }

    /// After `{`: whether a member follows (else the `}` is taken).
    fn first_member(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b'}') => {
                self.leave();
                Ok(false)
            }
            Some(b'"') => Ok(true),
            _ => Err(self.expected("a key (a string) or `}`")),
        }
    }

    /// After a member: whether another follows (`,`) or the object ends (`}`, taken).
    fn next_member(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                match self.peek() {
                    Some(b'"') => Ok(true),
                    _ => Err(self.expected("a key (a string)")),
                }
            }
            Some(b'}') => {
                self.leave();
                Ok(false)
            }
            _ => Err(self.expected("`,` or `}`")),
        }
    }

    /// A key and the `:` after it.
    fn key(&mut self) -> Read<Cow<'a, str>> {
        // Keys are short: a plain one followed by `:` is taken a byte at a time.
        if self.bytes.get(self.pos) == Some(&b'"') {
            let start = self.pos + 1;
            let mut i = start;
            while let Some(&b) = self.bytes.get(i) {
                if b == b'"' {
                    if self.bytes.get(i + 1) == Some(&b':')
                        && let Some(key) = self.text.get(start..i)
                    {
                        self.pos = i + 2;
                        return Ok(Cow::Borrowed(key));
                    }
                    break;
                }
                if b == b'\\' || b < 0x20 {
                    break;
                }
                i += 1;
            }
        }
        let key = self.string()?;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            _ => Err(self.expected("`:`")),
        }
    }

    /// An object, handing each member's key to `member`, which must read (or skip) its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Read<()>) -> Read<()> {
        if self.peek() != Some(b'{') {
            return Err(self.expected("an object"));
        }
        self.enter()?;
        if self.first_member()? {
            loop {
                let key = self.key()?;
                member(self, key)?;
                if !self.next_member()? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// An array of items.
    fn list<T>(
        &mut self,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Read<T>,
    ) -> Read<Vec<T>> {
        if self.peek() != Some(b'[') {
            return Err(self.expected(what));
        }
        self.enter()?;
        let mut items = Vec::new();
        if self.first_element()? {
            loop {
                items.push(item(self)?);
                if !self.next_element()? {
                    break;
                }
            }
        }
        Ok(items)
    }

    /// A two-element array (a tuple variant).
    fn pair<A, B>(
        &mut self,
        what: &'static str,
        first: impl FnOnce(&mut Self) -> Read<A>,
        second: impl FnOnce(&mut Self) -> Read<B>,
    ) -> Read<(A, B)> {
        if self.peek() != Some(b'[') {
            return Err(self.expected(what));
        }
        let at = self.pos;
        self.enter()?;
        if !self.first_element()? {
            return Err(self.fault_at(at, format!("expected {what}, found an empty array")));
        }
        let a = first(self)?;
        if !self.next_element()? {
            return Err(self.fault_at(at, format!("expected {what}, found one element")));
        }
        let b = second(self)?;
        if self.next_element()? {
            return Err(self.fault_at(at, format!("expected {what}, found more elements")));
        }
        Ok((a, b))
    }

    /// A struct: an object (fields by key, unknown keys skipped), or, as `serde_json` also
    /// accepts, an array of at most `fields` values in declaration order. `field` reads field
    /// number `i` (or skips the value when `i` is out of range).
    fn record(
        &mut self,
        what: &'static str,
        fields: usize,
        index: fn(&[u8]) -> usize,
        mut field: impl FnMut(&mut Self, usize) -> Read<()>,
    ) -> Read<()> {
        match self.peek() {
            Some(b'{') => self.object(|r, key| field(r, index(key.as_bytes()))),
            Some(b'[') => {
                let at = self.pos;
                self.enter()?;
                if self.first_element()? {
                    let mut i = 0;
                    loop {
                        if i >= fields {
                            return Err(self.fault_at(
                                at,
                                format!("expected {what}, found an array of too many elements"),
                            ));
                        }
                        field(self, i)?;
                        i += 1;
                        if !self.next_element()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Reads a field's value into its slot; when that fails, the rest of the value is passed
    /// over and the fault kept as the slot's error, in case the key comes again.
    fn fill<T>(&mut self, slot: &mut Slot<T>, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<()> {
        let depth = self.depth;
        match read(self) {
            Ok(value) => *slot = Slot::Got(value),
            Err(Stop) => {
                let fault = self.fault.take();
                self.resync(depth);
                *slot = Slot::Bad(fault);
            }
        }
        Ok(())
    }

    /// After a value that could not be read, at or past its start: moves on to the `,`, `}` or
    /// `]` after it, at nesting `depth`. Counts brackets only, in one pass without recursion,
    /// so that a fault deep inside costs no more than reading on; whether the text is JSON is
    /// checked afterwards (`resynced`).
    #[cold]
    fn resync(&mut self, depth: u32) {
        self.resynced = true;
        while let Some(b) = self.peek() {
            match b {
                b',' | b'}' | b']' if self.depth <= depth => return,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => self.leave(),
                b'"' => {
                    let mut at = self.pos + 1;
                    loop {
                        at = plain_run_end(self.bytes, at);
                        match self.bytes.get(at) {
                            Some(b'"') => break,
                            Some(b'\\') => at += 2,
                            Some(_) => at += 1,
                            None => break,
                        }
                    }
                    self.pos = at + 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// An externally tagged enum: `"name"`, or `{"name": payload}` (one key, which may repeat).
    fn tagged<T>(
        &mut self,
        what: &'static str,
        mut variant: impl FnMut(&mut Self, Tag<'_>) -> Read<T>,
    ) -> Read<T> {
        match self.peek() {
            Some(b'"') => {
                let at = self.pos;
                let name = self.string()?;
                variant(
                    self,
                    Tag {
                        name: &name,
                        at,
                        payload: false,
                    },
                )
            }
            Some(b'{') => {
                let open = self.pos;
                self.enter()?;
                if !self.first_member()? {
                    return Err(self.fault_at(open, format!("expected {what}, found `{{}}`")));
                }
                let at = self.pos;
                let name = self.key()?;
                let mut slot = Slot::Missing;
                loop {
                    let tag = Tag {
                        name: &name,
                        at,
                        payload: true,
                    };
                    self.fill(&mut slot, |r| variant(r, tag))?;
                    if !self.next_member()? {
                        break;
                    }
                    let again = self.pos;
                    if self.key()? != name {
                        return Err(self.fault_at(
                            again,
                            format!("expected {what}: an object with a single key"),
                        ));
                    }
                }
                slot.required(self, open, what)
            }
            _ => Err(self.expected(what)),
        }
    }

    #[cold]
    fn unknown_variant(&self, what: &'static str, tag: &Tag<'_>) -> Stop {
        self.fault_at(tag.at, format!("unknown {what} `{}`", tag.name))
    }

    /// An enum whose variants are all units.
    fn unit_enum<T>(&mut self, what: &'static str, by_name: fn(&str) -> Option<T>) -> Read<T> {
        self.tagged(what, |r, tag| {
            let value = by_name(tag.name).ok_or_else(|| r.unknown_variant(what, &tag))?;
            if tag.payload && !r.null() {
                return Err(r.expected("null (the variant has no value)"));
            }
            Ok(value)
        })
    }

    /// A string, borrowed from the text unless it has escapes.
    fn string(&mut self) -> Read<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return Err(self.expected("a string"));
        }
        let start = self.pos + 1;
        let end = plain_run_end(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                let text = self
                    .text
                    .get(start..end)
                    .ok_or_else(|| self.fault_at(end, "bad string"))?;
                self.pos = end + 1;
                Ok(Cow::Borrowed(text))
            }
            _ => self.escaped_string(start, end).map(Cow::Owned),
        }
    }

    /// The rest of a string from its first escape (or bad byte) at `at`.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, mut at: usize) -> Read<String> {
        let mut out = String::new();
        let mut run = start;
        loop {
            out.push_str(self.text.get(run..at).unwrap_or_default());
            match self.bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(out);
                }
                Some(b'\\') => at = self.escape(at + 1, &mut out)?,
                Some(_) => {
                    return Err(self.fault_at(at, "control character in a string"));
                }
                None => return Err(self.fault_at(at, "unexpected end of the text in a string")),
            }
            run = at;
            at = plain_run_end(self.bytes, at);
        }
    }

    /// Decodes the escape after a `\` at `at - 1`; returns where the string goes on.
    fn escape(&self, at: usize, out: &mut String) -> Read<usize> {
        let c = match self.bytes.get(at) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(at + 1, out),
            Some(_) => return Err(self.fault_at(at, "invalid escape")),
            None => return Err(self.fault_at(at, "unexpected end of the text in a string")),
        };
        out.push(c);
        Ok(at + 1)
    }

    fn hex4(&self, at: usize) -> Read<u32> {
        let mut n = 0;
        for i in at..at + 4 {
            let digit = self.bytes.get(i).copied().and_then(hex_digit);
            n = n * 16 + digit.ok_or_else(|| self.fault_at(i, "invalid `\\u` escape"))?;
        }
        Ok(n)
    }

    /// `\uXXXX` (the `\u` before `at`), a surrogate pair as one character; lone surrogates are
    /// refused, as `serde_json` refuses them in a string.
    fn unicode_escape(&self, at: usize, out: &mut String) -> Read<usize> {
        let n = self.hex4(at)?;
        let (code, next) = match n {
            0xDC00..=0xDFFF => return Err(self.fault_at(at, "lone trailing surrogate")),
            0xD800..=0xDBFF => {
                let low_at = at + 4;
                if self.bytes.get(low_at..low_at + 2) != Some(b"\\u") {
                    return Err(self.fault_at(low_at, "unpaired leading surrogate"));
                }
                let low = self.hex4(low_at + 2)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.fault_at(low_at, "unpaired leading surrogate"));
                }
                (0x1_0000 + ((n - 0xD800) << 10) + (low - 0xDC00), low_at + 6)
            }
            _ => (n, at + 4),
        };
        let c = char::from_u32(code).ok_or_else(|| self.fault_at(at, "invalid `\\u` escape"))?;
        out.push(c);
        Ok(next)
    }

    fn owned_string(&mut self) -> Read<String> {
        self.string().map(Cow::into_owned)
    }

    fn strings(&mut self) -> Read<Vec<String>> {
        self.list("a list of strings", Self::owned_string)
    }

    /// A number's text, checked against JSON's grammar.
    fn number(&mut self) -> Read<Number> {
        let bytes = self.bytes;
        let start = self.pos;
        let mut i = start;
        let negative = bytes.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let mut digits: u64 = 0;
        let mut overflow = false;
        // (`checked_mul` would call a 128-bit multiplication in Wasm.)
        const MAX_TENTH: u64 = u64::MAX / 10;
        let mut add = |d: u8| {
            let d = u64::from(d - b'0');
            if digits < MAX_TENTH || (digits == MAX_TENTH && d <= u64::MAX % 10) {
                digits = digits * 10 + d;
            } else {
                // Once set, this stays set, and `digits` no longer counts.
                overflow = true;
            }
        };
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = bytes.get(i) {
                    return Err(self.fault_at(i, "invalid number (leading zero)"));
                }
            }
            Some(&d @ b'1'..=b'9') => {
                add(d);
                i += 1;
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    add(d);
                    i += 1;
                }
            }
            _ => return Err(self.fault_at(i, "invalid number")),
        }
        let mut fraction = 0u32;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                add(d);
                fraction = fraction.saturating_add(1);
                i += 1;
            }
            if fraction == 0 {
                return Err(self.fault_at(i, "invalid number (no digit after `.`)"));
            }
        }
        let exponent = matches!(bytes.get(i), Some(b'e' | b'E'));
        if exponent {
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            let first = i;
            while let Some(b'0'..=b'9') = bytes.get(i) {
                i += 1;
            }
            if i == first {
                return Err(self.fault_at(i, "invalid number (no digit in the exponent)"));
            }
        }
        self.pos = i;
        Ok(Number {
            start,
            end: i,
            negative,
            integer: fraction == 0 && !exponent,
            exponent,
            digits,
            overflow,
            fraction,
        })
    }

    fn number_here(&mut self, what: &'static str) -> Read<Number> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.expected(what)),
        }
    }

    fn f64(&mut self) -> Read<f64> {
        let n = self.number_here("a number")?;
        n.to_f64(self.text)
            .map_err(|problem| self.fault_at(n.start, problem))
    }

    /// An unsigned integer that fits `T`.
    fn uint<T: TryFrom<u64>>(&mut self) -> Read<T> {
        let n = self.number_here("an unsigned integer")?;
        let value = n.as_u64().and_then(|v| T::try_from(v).ok());
        value.ok_or_else(|| {
            let text = self.text.get(n.start..n.end).unwrap_or_default();
            self.fault_at(
                n.start,
                format!(
                    "`{text}` is not an unsigned integer of {} bits",
                    8 * size_of::<T>()
                ),
            )
        })
    }

    fn bool(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b't') if self.literal(b"true") => Ok(true),
            Some(b'f') if self.literal(b"false") => Ok(false),
            _ => Err(self.expected("`true` or `false`")),
        }
    }

    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        if self.null() {
            Ok(None)
        } else {
            read(self).map(Some)
        }
    }

    /// Any JSON value, checked as `serde_json` checks it and dropped.
    fn skip(&mut self) -> Read<()> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(|r, _| r.skip()),
            Some(b'[') => self.list("", Self::skip).map(drop),
            Some(b'-' | b'0'..=b'9') => {
                let n = self.number()?;
                if n.exponent || n.overflow {
                    n.to_f64(self.text)
                        .map_err(|problem| self.fault_at(n.start, problem))?;
                }
                Ok(())
            }
            Some(b't') if self.literal(b"true") => Ok(()),
            Some(b'f') if self.literal(b"false") => Ok(()),
            Some(b'n') if self.literal(b"null") => Ok(()),
            _ => Err(self.expected("a JSON value")),
        }
    }

    /// The value of `v`, as `Value::as_u64` sees it.
    fn version(&mut self) -> Read<Version> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {
                let n = self.number()?;
                if n.exponent || n.overflow {
                    n.to_f64(self.text)
                        .map_err(|problem| self.fault_at(n.start, problem))?;
                }
                Ok(n.as_u64().map_or(Version::Other, Version::Number))
            }
            _ => self.skip().map(|()| Version::Other),
        }
    }

    /// The whole text as JSON, for its top-level `v` (the last one, as in a `Value`).
    fn survey(&mut self) -> Read<Version> {
        let mut version = Version::Absent;
        if self.peek() == Some(b'{') {
            self.object(|r, key| {
                if key == "v" {
                    version = r.version()?;
                    Ok(())
                } else {
                    r.skip()
                }
            })?;
        } else {
            self.skip()?;
        }
        self.end()?;
        Ok(version)
    }

    /// The whole text as a policy of this format.
    fn policy(&mut self) -> Read<CompiledPolicy> {
        let mut version = Version::Absent;
        let (mut id, mut ver, mut loc, mut tz) =
            (Slot::Missing, Slot::Missing, Slot::Missing, Slot::Missing);
        let (mut rules, mut default, mut messages) = (Slot::Missing, Slot::Missing, Slot::Missing);
        self.peek();
        let at = self.pos;
        self.object(|r, key| match key.as_bytes() {
            [b'v'] => {
                version = r.version()?;
                Ok(())
            }
            [b'i', b'd'] => r.fill(&mut id, Self::owned_string),
            [b'v', b'e', b'r'] => r.fill(&mut ver, Self::owned_string),
            [b'l', b'o', b'c'] => r.fill(&mut loc, Self::owned_string),
            [b't', b'z'] => r.fill(&mut tz, Self::owned_string),
            [b'r'] => r.fill(&mut rules, |r| r.list("a list of rules", Self::rule)),
            [b'd'] => r.fill(&mut default, Self::outcome),
            [b'm'] => {
                let default_locale = match &loc {
                    Slot::Got(locale) => Some(locale.as_str()),
                    _ => None,
                };
                r.fill(&mut messages, |r| r.messages(default_locale))
            }
            _ => r.skip(),
        })?;
        self.end()?;
        if version != Version::Number(u64::from(FORMAT_VERSION)) {
            // `read` tells a missing version from another one.
            return Err(self.fault_at(at, "not a policy of this format version"));
        }
        Ok(CompiledPolicy {
            format: FORMAT_VERSION,
            id: id.required(self, at, "id")?,
            version: ver.required(self, at, "ver")?,
            default_locale: loc.required(self, at, "loc")?,
            timezone: tz.required(self, at, "tz")?,
            rules: rules.required(self, at, "r")?,
            default: default.required(self, at, "d")?,
            messages: messages.or_default(self)?,
        })
    }

    /// Locale → key → text, without the locales `only_locales` leaves out. Until the default
    /// locale is known (a document whose `loc` comes after `m`), every locale is kept.
    fn messages(&mut self, default_locale: Option<&str>) -> Read<Messages> {
        let only = self.only_locales.take();
        let read = match (&only, default_locale) {
            (Some(wanted), Some(default)) => self.map_where(
                |locale| locale == default || wanted.iter().any(|w| w == locale),
                |r| r.map(Self::owned_string),
            ),
            _ => self.map(|r| r.map(Self::owned_string)),
        };
        self.only_locales = only;
        read
    }

    /// An object of values by key; a repeated key counts for its last value.
    fn map<T>(&mut self, value: impl FnMut(&mut Self) -> Read<T>) -> Read<TextMap<T>> {
        self.map_where(|_| true, value)
    }

    /// `map` of the keys that `keep` accepts; the other values are passed over.
    fn map_where<T>(
        &mut self,
        keep: impl Fn(&str) -> bool,
        mut value: impl FnMut(&mut Self) -> Read<T>,
    ) -> Read<TextMap<T>> {
        let mut map = TextMap::new();
        let mut bad: Vec<(String, Option<Fault>)> = Vec::new();
        self.object(|r, key| {
            if !keep(&key) {
                return r.skip();
            }
            let mut slot = Slot::Missing;
            r.fill(&mut slot, &mut value)?;
            let key = key.into_owned();
            bad.retain(|(k, _)| *k != key);
            match slot {
                Slot::Got(v) => {
                    map.insert(key, v);
                }
                Slot::Bad(fault) => bad.push((key, fault)),
                Slot::Missing => {}
            }
            Ok(())
        })?;
        match bad.into_iter().next() {
            Some((_, fault)) => Err(self.restore(fault)),
            None => Ok(map),
        }
    }

    fn rule(&mut self) -> Read<Rule> {
        let (mut id, mut t, mut w, mut o) =
            (Slot::Missing, Slot::Missing, Slot::Missing, Slot::Missing);
        self.peek();
        let at = self.pos;
        let index = |key: &[u8]| match key {
            [b'i', b'd'] => 0,
            [b't'] => 1,
            [b'w'] => 2,
            [b'o'] => 3,
            _ => usize::MAX,
        };
        self.record("a rule", 4, index, |r, field| match field {
            0 => r.fill(&mut id, Self::owned_string),
            1 => r.fill(&mut t, Self::uint),
            2 => r.fill(&mut w, Self::conditions),
            3 => r.fill(&mut o, Self::outcome),
            _ => r.skip(),
        })?;
        Ok(Rule {
            id: id.required(self, at, "id")?,
            triggers: t.required(self, at, "t")?,
            when: w.or_default(self)?,
            then: o.required(self, at, "o")?,
        })
    }

    fn outcome(&mut self) -> Read<Outcome> {
        let mut k = Slot::Missing;
        let (mut rs, mut rf, mut fee) = (Slot::Missing, Slot::Missing, Slot::Missing);
        let (mut rk, mut n) = (Slot::Missing, Slot::Missing);
        let (mut sn, mut msg, mut hr) = (Slot::Missing, Slot::Missing, Slot::Missing);
        let (mut tg, mut hm, mut ln) = (Slot::Missing, Slot::Missing, Slot::Missing);
        self.peek();
        let at = self.pos;
        let index = |key: &[u8]| match key {
            // In the order of `Outcome`'s fields (a sequence gives them by position).
            [b'k'] => 0,
            [b'l', b'n'] => 1,
            [b'r', b's'] => 2,
            [b'r', b'f'] => 3,
            [b'f', b'e', b'e'] => 4,
            [b'r', b'k'] => 5,
            [b'n'] => 6,
            [b's', b'n'] => 7,
            [b't', b'g'] => 8,
            [b'm', b's', b'g'] => 9,
            [b'h', b'r'] => 10,
            [b'h', b'm'] => 11,
            _ => usize::MAX,
        };
        self.record("an outcome", 12, index, |r, field| match field {
            0 => r.fill(&mut k, |r| {
                r.unit_enum("an outcome kind", OutcomeKind::by_name)
            }),
            1 => r.fill(&mut ln, |r| r.optional(Self::conditions)),
            2 => r.fill(&mut rs, |r| {
                r.optional(|r| r.unit_enum("a cancel reason", CancelReason::by_name))
            }),
            3 => r.fill(&mut rf, |r| {
                r.optional(|r| r.unit_enum("a refund method", RefundMethod::by_name))
            }),
            4 => r.fill(&mut fee, |r| r.optional(Self::fee)),
            5 => r.fill(&mut rk, Self::bool),
            6 => r.fill(&mut n, Self::bool),
            7 => r.fill(&mut sn, |r| r.optional(Self::owned_string)),
            8 => r.fill(&mut tg, Self::strings),
            9 => r.fill(&mut msg, |r| r.optional(Self::owned_string)),
            10 => r.fill(&mut hr, |r| r.optional(Self::owned_string)),
            11 => r.fill(&mut hm, |r| r.optional(Self::uint)),
            _ => r.skip(),
        })?;
        Ok(Outcome {
            kind: k.required(self, at, "k")?,
            reason: rs.or_default(self)?,
            refund: rf.or_default(self)?,
            fee: fee.or_default(self)?,
            restock: rk.or_default(self)?,
            notify: n.or_default(self)?,
            staff_note: sn.or_default(self)?,
            tags: tg.or_default(self)?,
            message: msg.or_default(self)?,
            hold_reason: hr.or_default(self)?,
            hold_minutes: hm.or_default(self)?,
            lines: ln.or_default(self)?,
        })
    }

    fn fee(&mut self) -> Read<Fee> {
        const WHAT: &str = "a fee";
        self.tagged(WHAT, |r, tag| match (tag.name, tag.payload) {
            ("pct", true) => Ok(Fee::Percent(r.f64()?)),
            ("fix", true) => Ok(Fee::Fixed(r.owned_string()?)),
            ("pct" | "fix", false) => Err(r.fault_at(tag.at, "expected a fee with its value")),
            _ => Err(r.unknown_variant(WHAT, &tag)),
        })
    }

    fn conditions(&mut self) -> Read<Vec<Condition>> {
        self.list("a list of conditions", Self::condition)
    }

    fn condition(&mut self) -> Read<Condition> {
        const WHAT: &str = "a condition";
        self.tagged(WHAT, |r, tag| {
            let variant = match tag.name.as_bytes() {
                [b'a', b'l', b'l'] => 0,
                [b'a', b'n', b'y'] => 1,
                [b'n', b'o', b't'] => 2,
                [b'f'] => 3,
                [b'l'] => 4,
                _ => return Err(r.unknown_variant(WHAT, &tag)),
            };
            if !tag.payload {
                return Err(r.fault_at(tag.at, "expected a condition with its value"));
            }
            Ok(match variant {
                0 => Condition::All(r.conditions()?),
                1 => Condition::Any(r.conditions()?),
                2 => Condition::Not(Box::new(r.condition()?)),
                3 => {
                    let (fact, test) =
                        r.pair("[fact, test]", |r| r.unit_enum("a fact", fact), Self::test)?;
                    Condition::Fact(fact, test)
                }
                _ => {
                    let (quantifier, conditions) = r.pair(
                        "[quantifier, conditions]",
                        Self::quantifier,
                        Self::conditions,
                    )?;
                    Condition::Lines(quantifier, conditions)
                }
            })
        })
    }

    fn quantifier(&mut self) -> Read<Quantifier> {
        const WHAT: &str = "a quantifier";
        self.tagged(WHAT, |r, tag| {
            let unit = match tag.name {
                "any" => Quantifier::Any,
                "all" => Quantifier::All,
                "none" => Quantifier::None,
                "count" if tag.payload => return Ok(Quantifier::Count(r.test()?)),
                "count" => return Err(r.fault_at(tag.at, "expected `count` with its test")),
                _ => return Err(r.unknown_variant(WHAT, &tag)),
            };
            if tag.payload && !r.null() {
                return Err(r.expected("null (the variant has no value)"));
            }
            Ok(unit)
        })
    }

    fn test(&mut self) -> Read<Test> {
        const WHAT: &str = "a test";
        self.tagged(WHAT, |r, tag| {
            let test = match tag.name {
                "is" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "in" | "nin" | "pre" | "glob"
                | "anyof" | "allof" | "noneof" | "allin" | "min" | "max" | "before" | "after"
                | "cut" => tag.name,
                _ => return Err(r.unknown_variant(WHAT, &tag)),
            };
            if !tag.payload {
                return Err(r.fault_at(tag.at, "expected a test with its value"));
            }
            Ok(match test {
                "is" => Test::Is(r.bool()?),
                "eq" => Test::Eq(r.f64()?),
                "ne" => Test::Ne(r.f64()?),
                "lt" => Test::Lt(r.f64()?),
                "le" => Test::Le(r.f64()?),
                "gt" => Test::Gt(r.f64()?),
                "ge" => Test::Ge(r.f64()?),
                "in" => Test::In(r.strings()?),
                "nin" => Test::NotIn(r.strings()?),
                "pre" => Test::Prefix(r.strings()?),
                "glob" => Test::Matches(r.owned_string()?),
                "anyof" => Test::AnyOf(r.strings()?),
                "allof" => Test::AllOf(r.strings()?),
                "noneof" => Test::NoneOf(r.strings()?),
                "allin" => Test::AllIn(r.strings()?),
                "min" => Test::AtLeast(r.owned_string()?),
                "max" => Test::AtMost(r.owned_string()?),
                "before" => Test::Before(r.uint()?),
                "after" => Test::After(r.uint()?),
                _ => r.cutoff()?,
            })
        })
    }

    /// `{"at": minutes, "days": bits}` (a struct variant: an object only).
    fn cutoff(&mut self) -> Read<Test> {
        let (mut at_slot, mut days) = (Slot::Missing, Slot::Missing);
        self.peek();
        let at = self.pos;
        self.object(|r, key| match key.as_bytes() {
            [b'a', b't'] => r.fill(&mut at_slot, Self::uint),
            [b'd', b'a', b'y', b's'] => r.fill(&mut days, Self::uint),
            _ => r.skip(),
        })?;
        Ok(Test::Cutoff {
            at: at_slot.required(self, at, "at")?,
            days: days.required(self, at, "days")?,
        })
    }
}

/// How many facts there are (their `Fact as u32` run from 0 to one less).
pub(super) const FACT_COUNT: usize = FACTS.len();

/// Facts by their serde names (`rename_all = "snake_case"`: no `_` before a digit, so
/// `customer_cancellations30d`, unlike the catalog's policy-file names).
pub(super) const FACTS: [(&str, Fact); 43] = [
    ("minutes_since_placed", Fact::MinutesSincePlaced),
    ("business_days_since_placed", Fact::BusinessDaysSincePlaced),
    ("local_time", Fact::LocalTime),
    ("local_weekday", Fact::LocalWeekday),
    ("before_cutoff", Fact::BeforeCutoff),
    ("fulfillment_status", Fact::FulfillmentStatus),
    ("fulfillment_order_status", Fact::FulfillmentOrderStatus),
    ("fulfillment_request_status", Fact::FulfillmentRequestStatus),
    ("financial_status", Fact::FinancialStatus),
    ("total_price", Fact::TotalPrice),
    ("currency", Fact::Currency),
    ("sales_channel", Fact::SalesChannel),
    ("order_tags", Fact::OrderTags),
    ("test_order", Fact::TestOrder),
    ("b2b", Fact::B2b),
    ("shipping_country", Fact::ShippingCountry),
    ("shipping_method", Fact::ShippingMethod),
    ("local_pickup", Fact::LocalPickup),
    ("discount_codes", Fact::DiscountCodes),
    ("line_count", Fact::LineCount),
    ("cancelled", Fact::Cancelled),
    ("risk_level", Fact::RiskLevel),
    ("risk_recommendation", Fact::RiskRecommendation),
    ("risk_third_party", Fact::RiskThirdParty),
    ("customer_tags", Fact::CustomerTags),
    ("customer_orders", Fact::CustomerOrders),
    ("customer_cancellations30d", Fact::CustomerCancellations30d),
    ("customer_cancellations90d", Fact::CustomerCancellations90d),
    (
        "customer_cancellations365d",
        Fact::CustomerCancellations365d,
    ),
    ("request_source", Fact::RequestSource),
    ("request_reason", Fact::RequestReason),
    ("request_locale", Fact::RequestLocale),
    ("product_tags", Fact::ProductTags),
    ("product_type", Fact::ProductType),
    ("vendor", Fact::Vendor),
    ("sku", Fact::Sku),
    ("collections", Fact::Collections),
    ("gift_card", Fact::GiftCard),
    ("requires_shipping", Fact::RequiresShipping),
    ("selling_plan", Fact::SellingPlan),
    ("inventory_available", Fact::InventoryAvailable),
    ("oversold", Fact::Oversold),
    ("quantity", Fact::Quantity),
];

fn fact(name: &str) -> Option<Fact> {
    FACTS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use crate::catalog::CATALOG;

    /// The reader's names are serde's: every catalog fact, and every unit enum.
    #[test]
    fn names_are_serdes() {
        assert_eq!(FACTS.len(), CATALOG.len());
        for spec in CATALOG {
            let json = serde_json::to_string(&spec.fact).unwrap();
            let name = json.trim_matches('"');
            assert_eq!(fact(name), Some(spec.fact), "{name}");
        }
        for kind in OutcomeKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(OutcomeKind::by_name(json.trim_matches('"')), Some(kind));
        }
        for name in crate::outcome::CANCEL_REASONS {
            let reason: CancelReason = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(CancelReason::by_name(name), Some(reason));
        }
        for name in crate::outcome::REFUND_METHODS {
            let method: RefundMethod = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(RefundMethod::by_name(name), Some(method));
        }
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        let text = b"abcdefghijklmnop\"qrs\\tu\x01vwxyz";
        for start in 0..text.len() {
            let expected = (start..text.len())
                .find(|&i| matches!(text[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(text.len());
            assert_eq!(plain_run_end(text, start), expected, "from {start}");
        }
        let all: Vec<u8> = (0u8..=255).collect();
        for b in 0u8..=255 {
            let mut chunk = vec![b'a'; 20];
            chunk[9] = b;
            let stop = if b == b'"' || b == b'\\' || b < 0x20 {
                9
            } else {
                20
            };
            assert_eq!(plain_run_end(&chunk, 0), stop, "byte {b}");
        }
        assert_eq!(plain_run_end(&all, 0x20), 0x22);
        // Every pair of bytes, within a word and across two, where one byte's borrow could
        // flag its neighbour.
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for a in 0u8..=255 {
            for b in 0u8..=255 {
                for at in [0, 3, 6, 7] {
                    let mut chunk = [b'a'; 16];
                    chunk[at] = a;
                    chunk[at + 1] = b;
                    let expected = (0..16).find(|&i| special(chunk[i])).unwrap_or(16);
                    assert_eq!(plain_run_end(&chunk, 0), expected, "{a} {b} at {at}");
                }
            }
        }
    }
}
