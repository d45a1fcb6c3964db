//! The fast path of [`CompiledPolicy::read`]: the policy as `to_json` writes it, read straight
//! into its types.
//!
//! It takes the shape the compiler produces (every struct an object whose keys each come once
//! and are all known, every enum in its shortest form: `"unit"` or `{"variant": payload}`), with
//! whitespace anywhere, and gives up (`None`) at the first byte of anything else, well-formed or
//! not, leaving it to the full reader: a repeated or unknown key, a struct as an array,
//! `{"unit": null}`, a bad value, ... So it needs no slots for values that a repeated key may
//! replace and no error wording, and what it accepts it reads as the full reader does: strings,
//! numbers, nesting depth and whitespace go through the same [`Reader`] methods, and what it
//! skips (message locales of other requests, rules of other triggers) is checked as JSON
//! (but for what [`PolicyStream`] passes over by its length: outcomes of rules that do not
//! decide, and of other triggers' rules).

use std::borrow::Cow;

use super::{FACTS, MAX_DEPTH, Messages, NOT_COMPILED_FORM, Reader, plain_run_end};
use crate::catalog::Fact;
use crate::compiled::LoadError;
use crate::compiled::{
    CompiledPolicy, Condition, FORMAT_VERSION, FactSet, FunctionHeader, Quantifier, Rule, Test,
};
use crate::eval::message_locales;
use crate::outcome::{CancelReason, Fee, Outcome, OutcomeKind, RefundMethod};
use crate::text::{same_text, word_at};
use crate::text_map::TextMap;

/// A name packed into an integer: its length in the low byte, then its bytes if it has at
/// most seven (so the packing is exact), else its first three and last four. Keys and variant
/// names are matched by comparing these, far cheaper in Wasm than comparing strings.
fn sig(name: &[u8]) -> u64 {
    let len = name.len() as u64 & 0xff;
    if name.len() > 7
        && let (Some(&[a, b, c]), Some(tail)) = (name.first_chunk::<3>(), name.last_chunk::<4>())
    {
        let head = u64::from(u32::from_le_bytes([a, b, c, 0]));
        return len | head << 8 | u64::from(u32::from_le_bytes(*tail)) << 32;
    }
    let mut code = len;
    for (i, &byte) in name.iter().take(7).enumerate() {
        code |= u64::from(byte) << (8 * (i + 1));
    }
    code
}

/// [`sig`] at compile time, for the names matched against.
const fn sig_of(name: &[u8]) -> u64 {
    let mut code = name.len() as u64 & 0xff;
    let (mut head, mut tail): (&[u8], &[u8]) = match (
        name.len() > 7,
        name.first_chunk::<3>(),
        name.last_chunk::<4>(),
    ) {
        (true, Some(head), Some(tail)) => (head, tail),
        _ => (name, &[]),
    };
    let mut shift = 8;
    while let [byte, rest @ ..] = head {
        code |= (*byte as u64) << shift;
        shift += 8;
        head = rest;
    }
    while let [byte, rest @ ..] = tail {
        code |= (*byte as u64) << shift;
        shift += 8;
        tail = rest;
    }
    code
}

/// No name has this signature: its bytes would be 0xff, which UTF-8 never holds.
const END: u64 = u64::MAX;

/// [`next_key`] gives up: the signature of an empty key, which no record has.
const GIVE_UP: u64 = 0;

/// A fact's name as [`fact_named`] compares it: its first and last eight bytes (the whole
/// name, zero-padded, when shorter), and the name itself for any bytes between.
#[derive(Clone, Copy)]
struct FactName {
    first: u64,
    last: u64,
    name: &'static str,
    fact: Fact,
}

/// [`ends`] at compile time.
// Evaluated at compile time only, where an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn ends_of(name: &[u8]) -> (u64, u64) {
    let len = name.len();
    let (mut first, mut last) = (0, 0);
    let mut i = 0;
    while i < len && i < 8 {
        first |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    if len < 8 {
        return (first, first);
    }
    i = 0;
    while i < 8 {
        last |= (name[len - 8 + i] as u64) << (8 * i);
        i += 1;
    }
    (first, last)
}

/// The first and last eight bytes of `name` as integers (the whole name, zero-padded, twice
/// when shorter).
fn ends(name: &[u8]) -> (u64, u64) {
    match (name.first_chunk::<8>(), name.last_chunk::<8>()) {
        (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
        _ => {
            let word = name
                .iter()
                .rev()
                .fold(0, |word, &byte| word << 8 | u64::from(byte));
            (word, word)
        }
    }
}

/// The facts sorted by the length of their names.
// Evaluated at compile time, where an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const FACT_NAMES: [FactName; FACTS.len()] = {
    let mut table = [FactName {
        first: 0,
        last: 0,
        name: "",
        fact: FACTS[0].1,
    }; FACTS.len()];
    let mut i = 0;
    while i < FACTS.len() {
        let (first, last) = ends_of(FACTS[i].0.as_bytes());
        table[i] = FactName {
            first,
            last,
            name: FACTS[i].0,
            fact: FACTS[i].1,
        };
        i += 1;
    }
    i = 1;
    while i < table.len() {
        let mut j = i;
        while j > 0 && table[j - 1].name.len() > table[j].name.len() {
            let swapped = table[j - 1];
            table[j - 1] = table[j];
            table[j] = swapped;
            j -= 1;
        }
        i += 1;
    }
    table
};

/// For each length of name, the range of [`FACT_NAMES`] with names that long.
// Evaluated at compile time, where an index out of range (a name of 32 bytes or more) fails
// the build.
#[allow(clippy::indexing_slicing)]
const FACT_SPANS: [(u8, u8); 32] = {
    let mut spans = [(0, 0); 32];
    let mut i = 0;
    while i < FACT_NAMES.len() {
        let len = FACT_NAMES[i].name.len();
        if spans[len].0 == spans[len].1 {
            spans[len].0 = i as u8;
        }
        spans[len].1 = i as u8 + 1;
        i += 1;
    }
    spans
};

/// A fact by its serde name: among the names of its length, the one with the same first and
/// last eight bytes (and the same bytes between).
fn fact_named(name: &[u8]) -> Option<Fact> {
    let &(from, to) = FACT_SPANS.get(name.len())?;
    let (first, last) = ends(name);
    FACT_NAMES
        .get(usize::from(from)..usize::from(to))?
        .iter()
        .find(|f| {
            f.first == first
                && f.last == last
                && (name.len() <= 16 || same_text(f.name.as_bytes(), name))
        })
        .map(|f| f.fact)
}

/// A unit variant's name with its quotes (at most 16 bytes), as two words of the text and the
/// masks of its bytes in them: matched by comparing words, with no search for the string's
/// end. (So the name must be exactly these bytes: one with an escape is left to the full
/// reader.)
#[derive(Clone, Copy, Debug)]
struct Quoted {
    words: [u64; 2],
    masks: [u64; 2],
    len: usize,
}

// Evaluated at compile time only, where an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn quoted(name: &[u8]) -> Quoted {
    let len = name.len() + 2;
    let (mut words, mut masks) = ([0; 2], [0; 2]);
    let mut i = 0;
    while i < len {
        let byte = if i == 0 || i == len - 1 {
            b'"'
        } else {
            name[i - 1]
        };
        words[i / 8] |= (byte as u64) << (8 * (i % 8));
        masks[i / 8] |= 0xff << (8 * (i % 8));
        i += 1;
    }
    Quoted { words, masks, len }
}

/// Names, quoted, with their values.
type Codes<T, const N: usize> = [(Quoted, T); N];

// Evaluated at compile time only, where an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn coded<T: Copy, const N: usize>(names: [(&'static str, T); N]) -> Codes<T, N> {
    let mut out = [(quoted(b""), names[0].1); N];
    let mut i = 0;
    while i < N {
        out[i] = (quoted(names[i].0.as_bytes()), names[i].1);
        i += 1;
    }
    out
}

/// The bytes of `word` below byte `len` (at most 7).
#[inline(always)]
fn low_bytes(word: u64, len: u32) -> u64 {
    word & ((1u64 << (8 * len)) - 1)
}

/// A unit variant as a string, by its name in `table`.
fn unit<T: Copy>(r: &mut Reader<'_>, table: &[(Quoted, T)]) -> Option<T> {
    if r.peek() != Some(b'"') {
        return None;
    }
    let (first, second) = (word_at(r.bytes, r.pos), word_at(r.bytes, r.pos + 8));
    let &(name, value) = table.iter().find(|(name, _)| {
        let [first_mask, second_mask] = name.masks;
        name.words == [first & first_mask, second & second_mask]
    })?;
    r.pos += name.len;
    Some(value)
}

/// Serde's names (checked in the tests against the types' own `by_name`).
const OUTCOME_KINDS: Codes<OutcomeKind, 6> = coded([
    ("cancel", OutcomeKind::Cancel),
    ("allow", OutcomeKind::Allow),
    ("deny", OutcomeKind::Deny),
    ("review", OutcomeKind::Review),
    ("hold", OutcomeKind::Hold),
    ("cancel_lines", OutcomeKind::CancelLines),
]);

const CANCEL_REASONS: Codes<CancelReason, 6> = coded([
    ("CUSTOMER", CancelReason::Customer),
    ("DECLINED", CancelReason::Declined),
    ("FRAUD", CancelReason::Fraud),
    ("INVENTORY", CancelReason::Inventory),
    ("STAFF", CancelReason::Staff),
    ("OTHER", CancelReason::Other),
]);

const REFUND_METHODS: Codes<RefundMethod, 3> = coded([
    ("original", RefundMethod::Original),
    ("store_credit", RefundMethod::StoreCredit),
    ("none", RefundMethod::None),
]);

/// A string as it stands in the text, found by its closing `"` alone, for names matched
/// against a table: one with an escape or a control character holds bytes (`\`, below 0x20)
/// that no name in a table holds, so it matches none and the caller gives up.
#[inline(always)]
fn quoted_name<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    if r.peek() != Some(b'"') {
        return None;
    }
    let start = r.pos + 1;
    let mut at = start;
    loop {
        // Past the text's end, zeros: never a `"`.
        let quotes = quote_bytes(word_at(r.bytes, at));
        if quotes != 0 {
            let end = at + (quotes.trailing_zeros() / 8) as usize;
            r.pos = end + 1;
            return r.bytes.get(start..end);
        }
        if at >= r.bytes.len() {
            return None;
        }
        at += 8;
    }
}

/// Gives up unless the byte after any whitespace is `byte` (`[` or `{`), which it takes.
#[inline(always)]
fn open(r: &mut Reader<'_>, byte: u8) -> Option<()> {
    if r.peek() != Some(byte) {
        return None;
    }
    r.enter().ok()
}

/// Gives up unless the byte after any whitespace is `byte` (`]` or `}`), which it takes.
#[inline(always)]
fn close(r: &mut Reader<'_>, byte: u8) -> Option<()> {
    if r.peek() != Some(byte) {
        return None;
    }
    r.leave();
    Some(())
}

/// After `{` (`first`) or after a member's value: the next key's signature, its `:` taken,
/// or [`END`] at the `}` (taken), or [`GIVE_UP`]. A plain integer rather than an `Option`,
/// which Wasm returns through memory. Only the key's closing `"` is looked for: a key with an
/// escape or a control character holds bytes (`\`, below 0x20) that no record's key holds,
/// so its signature matches none and the caller gives up.
#[inline(never)]
fn next_key(r: &mut Reader<'_>, first: bool) -> u64 {
    // As `to_json` writes it: `"key":` (first) or `,"key":` right here, in one word.
    let word = word_at(r.bytes, r.pos);
    let (lead, lead_len) = if first {
        (u64::from(b'"'), 1)
    } else {
        (u64::from(b',') | u64::from(b'"') << 8, 2)
    };
    if low_bytes(word, lead_len) == lead {
        let rest = word >> (8 * lead_len);
        let len = quote_bytes(rest).trailing_zeros() / 8;
        if lead_len + len + 2 <= 8 && (rest >> (8 * len)) as u16 == u16::from_le_bytes([b'"', b':'])
        {
            r.pos += (lead_len + len + 2) as usize;
            return low_bytes(rest, len) << 8 | u64::from(len);
        }
    }
    match r.peek() {
        Some(b'}') => {
            r.leave();
            return END;
        }
        Some(b'"') if first => {}
        Some(b',') if !first => {
            r.pos += 1;
            if r.peek() != Some(b'"') {
                return GIVE_UP;
            }
        }
        _ => return GIVE_UP,
    }
    // Keys of records are short: read as one word and packed as [`sig`] packs them. A
    // longer key is none of theirs.
    let start = r.pos + 1;
    let word = word_at(r.bytes, start);
    let quotes = quote_bytes(word);
    if quotes == 0 {
        return GIVE_UP;
    }
    let len = quotes.trailing_zeros() / 8;
    let key = low_bytes(word, len);
    r.pos = start + len as usize + 1;
    if r.peek() != Some(b':') {
        return GIVE_UP;
    }
    r.pos += 1;
    key << 8 | u64::from(len)
}

/// The high bit of each byte of `word` that is `"`; the lowest one set is always a true one
/// (see [`super::plain_run_end`]).
#[inline(always)]
fn quote_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let quote = word ^ (ONES * u64::from(b'"'));
    quote.wrapping_sub(ONES) & !quote & (ONES << 7)
}

/// A key as `to_json` writes it next, with what precedes it (`"key":` first, `,"key":` after
/// a member), at most eight bytes: [`next_key_or`] matches it with one comparison.
#[derive(Clone, Copy)]
struct Guess {
    word: u64,
    mask: u64,
    len: usize,
    sig: u64,
}

// Evaluated at compile time only, where an index out of range or a panic fails the build.
#[allow(clippy::indexing_slicing, clippy::panic)]
const fn guess(text: &[u8]) -> Guess {
    // `"key":`, `,"key":`, or `{"key":[` (for `condition`).
    let len = text.len();
    let name = match text {
        [b'"', name @ .., b'"', b':'] | [b',', b'"', name @ .., b'"', b':'] => name,
        [b'{', b'"', name @ .., b'"', b':', b'['] => name,
        // The end of the rules or of the default, and the next key (for `PolicyStream`).
        [b']' | b'}', b',', b'"', name @ .., b'"', b':'] => name,
        _ => panic!("not a key"),
    };
    let mut word = 0;
    let mut i = 0;
    while i < len {
        word |= (text[i] as u64) << (8 * i);
        i += 1;
    }
    let mask = if len >= 8 {
        u64::MAX
    } else {
        (1 << (8 * len)) - 1
    };
    Guess {
        word,
        mask,
        len,
        sig: sig_of(name),
    }
}

/// [`next_key`], trying `guess` first; `None` guesses the `}` ([`END`]).
#[inline(always)]
fn next_key_or(r: &mut Reader<'_>, guess: Option<Guess>, first: bool) -> u64 {
    match guess {
        Some(guess) => {
            // (Fewer than eight bytes left: the policy's end, left to `next_key`.)
            let word = r.bytes.get(r.pos..).and_then(<[u8]>::first_chunk::<8>);
            if let Some(word) = word
                && u64::from_le_bytes(*word) & guess.mask == guess.word
            {
                r.pos += guess.len;
                return guess.sig;
            }
        }
        None => {
            if r.bytes.get(r.pos) == Some(&b'}') {
                r.leave();
                return END;
            }
        }
    }
    next_key(r, first)
}

/// `{"name": ` of an externally tagged variant with a payload: the name's signature.
fn variant(r: &mut Reader<'_>) -> Option<u64> {
    open(r, b'{')?;
    match next_key(r, true) {
        END | GIVE_UP => None,
        name => Some(name),
    }
}

/// After an object's first key and the value: its `}`, so a repeated key gives up.
fn close_variant(r: &mut Reader<'_>) -> Option<()> {
    close(r, b'}')
}

/// After `{` (`first`) or a member's value: whether a member follows (the `"` of its key
/// next), or not (the `}` taken). `None` gives up.
fn more_members(r: &mut Reader<'_>, first: bool) -> Option<bool> {
    match r.peek() {
        Some(b'}') => {
            r.leave();
            Some(false)
        }
        Some(b'"') if first => Some(true),
        Some(b',') if !first => {
            r.pos += 1;
            (r.peek() == Some(b'"')).then_some(true)
        }
        _ => None,
    }
}

/// A key of a map and its `:`.
fn map_key<'a>(r: &mut Reader<'a>) -> Option<Cow<'a, str>> {
    let key = r.string().ok()?;
    colon(r)?;
    Some(key)
}

#[inline(always)]
fn colon(r: &mut Reader<'_>) -> Option<()> {
    if r.peek() != Some(b':') {
        return None;
    }
    r.pos += 1;
    Some(())
}

/// Passes over the string at `"`, checked as the full reader checks it.
fn skip_string(r: &mut Reader<'_>) -> Option<()> {
    let start = r.pos + 1;
    let end = plain_run_end(r.bytes, start);
    if r.bytes.get(end) == Some(&b'"') {
        r.pos = end + 1;
        return Some(());
    }
    r.string().ok().map(drop)
}

/// Passes over a locale's messages (an object of strings), checked as [`Reader::skip`]
/// checks them, each string a word at a time.
fn skip_texts(r: &mut Reader<'_>) -> Option<()> {
    open(r, b'{')?;
    let mut more = more_members(r, true)?;
    while more {
        // At the key's `"`. As `to_json` writes it, `"key":"text"` in one pass; otherwise
        // (escapes, whitespace) by the steps below.
        let bytes = r.bytes;
        let key_end = plain_run_end(bytes, r.pos + 1);
        let text_end = plain_run_end(bytes, key_end + 3);
        if bytes.get(key_end..key_end + 3) == Some(b"\":\"") && bytes.get(text_end) == Some(&b'"') {
            r.pos = text_end + 1;
        } else {
            skip_string(r)?;
            colon(r)?;
            if r.peek() != Some(b'"') {
                return None;
            }
            skip_string(r)?;
        }
        more = more_members(r, false)?;
    }
    Some(())
}

/// Passes over JSON checked as [`Reader::skip`]'s grammar, its numbers by their grammar only:
/// the rest of an object after a member's value, and its `}` (`inside_object`), or one
/// value. Sets `product_tags` when a string value (not a key) is `"product_tags"`.
///
/// One loop rather than a call per value, a bit per open container telling objects from
/// arrays; text as `to_json` writes it (no whitespace, strings without escapes) takes the
/// shortest way through. Nesting stops at the full reader's limit ([`Reader::enter`]).
#[inline(never)]
fn skip_json(r: &mut Reader<'_>, inside_object: bool, product_tags: &mut bool) -> Option<()> {
    let bytes = r.bytes;
    let mut at = r.pos;
    // A bit per open container, the innermost lowest: set for an object. (`MAX_DEPTH` < 128.)
    let (mut open, mut depth) = (u128::from(inside_object), u32::from(inside_object));
    let outer = r.depth.checked_sub(depth)?;
    let mut value = !inside_object;
    loop {
        if value {
            match next_byte(r, &mut at)? {
                b'"' => {
                    let end = string_end(bytes, at + 1);
                    if bytes.get(end) == Some(&b'"') {
                        // (Compared only at this length: rare.)
                        if end - at == 13 && bytes.get(at..=end) == Some(b"\"product_tags\"") {
                            *product_tags = true;
                        }
                        at = end + 1;
                    } else {
                        // An escape (so never `"product_tags"` as written), or an error.
                        r.pos = at;
                        r.string().ok()?;
                        at = r.pos;
                    }
                }
                byte @ (b'{' | b'[') => {
                    if outer + depth >= MAX_DEPTH {
                        return None;
                    }
                    let object = byte == b'{';
                    open = open << 1 | u128::from(object);
                    depth += 1;
                    at += 1;
                    match next_byte(r, &mut at) {
                        // Empty: its end is taken below.
                        Some(b'}' | b']') => {}
                        _ if object => {
                            at = key_end(r, at)?;
                            continue;
                        }
                        _ => continue,
                    }
                }
                b't' if bytes.get(at..at + 4) == Some(b"true") => at += 4,
                b'f' if bytes.get(at..at + 5) == Some(b"false") => at += 5,
                b'n' if bytes.get(at..at + 4) == Some(b"null") => at += 4,
                b'-' | b'0'..=b'9' => {
                    r.pos = at;
                    r.number().ok()?;
                    at = r.pos;
                }
                _ => return None,
            }
        }
        // After a value: `,` and the next (key and) value, or the innermost container's end.
        value = true;
        if depth == 0 {
            break;
        }
        let object = open & 1 == 1;
        match next_byte(r, &mut at)? {
            b',' if object => at = key_end(r, at + 1)?,
            b',' => at += 1,
            b'}' if object => (at, open, depth, value) = (at + 1, open >> 1, depth - 1, false),
            b']' if !object => (at, open, depth, value) = (at + 1, open >> 1, depth - 1, false),
            _ => return None,
        }
    }
    r.pos = at;
    r.depth = outer;
    Some(())
}

/// For [`skip_json`]: the byte at `at` past any whitespace (moving `at` there), `None` at the
/// text's end.
#[inline(always)]
fn next_byte(r: &mut Reader<'_>, at: &mut usize) -> Option<u8> {
    match r.bytes.get(*at) {
        Some(&byte) if byte > b' ' => Some(byte),
        _ => {
            r.pos = *at;
            let byte = r.peek_past_whitespace();
            *at = r.pos;
            byte
        }
    }
}

/// For [`skip_json`]: past a key at `at` (after any whitespace) and its `:`.
#[inline(always)]
fn key_end(r: &mut Reader<'_>, at: usize) -> Option<usize> {
    let bytes = r.bytes;
    if bytes.get(at) == Some(&b'"') {
        let end = string_end(bytes, at + 1);
        if bytes.get(end..end + 2) == Some(b"\":") {
            return Some(end + 2);
        }
    }
    r.pos = at;
    if r.peek() != Some(b'"') {
        return None;
    }
    skip_string(r)?;
    colon(r)?;
    Some(r.pos)
}

/// [`plain_run_end`] for [`skip_json`]'s keys and values (inlined: most of the skipped text).
#[inline(always)]
fn string_end(bytes: &[u8], at: usize) -> usize {
    plain_run_end(bytes, at)
}

#[inline(always)]
fn comma(r: &mut Reader<'_>) -> Option<()> {
    if r.peek() != Some(b',') {
        return None;
    }
    r.pos += 1;
    Some(())
}

/// `true` or `false`.
fn bool(r: &mut Reader<'_>) -> Option<bool> {
    r.peek();
    let rest = r.bytes.get(r.pos..).unwrap_or_default();
    if rest.first_chunk::<4>() == Some(b"true") {
        r.pos += 4;
        Some(true)
    } else if rest.first_chunk::<5>() == Some(b"false") {
        r.pos += 5;
        Some(false)
    } else {
        None
    }
}

/// Takes a `null` if one comes next.
fn null(r: &mut Reader<'_>) -> bool {
    r.peek();
    let found = r.bytes.get(r.pos..).and_then(<[u8]>::first_chunk::<4>) == Some(b"null");
    if found {
        r.pos += 4;
    }
    found
}

/// An unsigned integer that fits `T` (see [`uint_u64`]; only the conversion is generic: one
/// reader in the module, not one a type).
#[inline(always)]
fn uint<T: TryFrom<u64>>(r: &mut Reader<'_>) -> Option<T> {
    T::try_from(uint_u64(r)?).ok()
}

/// An unsigned integer: up to nine digits here (the header's bit sets and offsets have five
/// or six), others as [`Reader::uint`] reads them.
fn uint_u64(r: &mut Reader<'_>) -> Option<u64> {
    r.peek();
    let rest = r.bytes.get(r.pos..).unwrap_or_default();
    match plain_digits(rest) {
        Some((value, len)) => {
            r.pos += len;
            Some(value)
        }
        // A leading zero, a fraction, an exponent or ten digits or more: the full grammar.
        None => r.uint().ok(),
    }
}

/// The one to nine digits `rest` starts with, without a leading zero (as `to_json` writes an
/// integer part), as a value and their count; `None` for any other start.
#[inline(always)]
fn leading_digits(rest: &[u8]) -> Option<(u64, usize)> {
    let (mut value, mut len) = (0, 0);
    while let Some(&digit @ b'0'..=b'9') = rest.get(len) {
        if len == 9 {
            return None;
        }
        value = value * 10 + u64::from(digit - b'0');
        len += 1;
    }
    (len > 0 && (len == 1 || rest.first() != Some(&b'0'))).then_some((value, len))
}

/// The unsigned integer `rest` starts with, as `to_json` writes one ([`leading_digits`],
/// neither a fraction nor an exponent after), and its length; `None` for any other start.
#[inline(always)]
fn plain_digits(rest: &[u8]) -> Option<(u64, usize)> {
    let (value, len) = leading_digits(rest)?;
    (!matches!(rest.get(len), Some(b'.' | b'e' | b'E'))).then_some((value, len))
}

/// A test's number: a whole one as `to_json` writes it (`60.0`: [`leading_digits`], then
/// `.0`) in place, without the general reader's call and conversion; any other as
/// [`Reader::f64`] reads it.
fn test_number(r: &mut Reader<'_>) -> Option<f64> {
    r.peek();
    let rest = r.bytes.get(r.pos..).unwrap_or_default();
    let whole = leading_digits(rest).filter(|&(_, len)| {
        rest.get(len..len + 2) == Some(b".0")
            && !matches!(rest.get(len + 2), Some(b'0'..=b'9' | b'e' | b'E'))
    });
    // (Nine digits always fit a `u32`, whose every value an `f64` holds exactly.)
    match whole.and_then(|(value, len)| Some((u32::try_from(value).ok()?, len))) {
        Some((value, len)) => {
            r.pos += len + 2;
            Some(f64::from(value))
        }
        None => r.f64().ok(),
    }
}

fn owned_string(r: &mut Reader<'_>) -> Option<String> {
    if r.peek() != Some(b'"') {
        return None;
    }
    let start = r.pos + 1;
    let end = plain_run_end(r.bytes, start);
    if r.bytes.get(end) == Some(&b'"') {
        let text = r.text.get(start..end)?;
        r.pos = end + 1;
        return Some(text.to_owned());
    }
    r.string().ok().map(Cow::into_owned)
}

/// `null`, or what `read` reads.
#[inline(always)]
fn optional<T>(
    r: &mut Reader<'_>,
    read: impl FnOnce(&mut Reader<'_>) -> Option<T>,
) -> Option<Option<T>> {
    if null(r) {
        Some(None)
    } else {
        read(r).map(Some)
    }
}

fn list<T>(r: &mut Reader<'_>, item: fn(&mut Reader<'_>) -> Option<T>) -> Option<Vec<T>> {
    open(r, b'[')?;
    if r.peek() == Some(b']') {
        r.leave();
        return Some(Vec::new());
    }
    // Most lists of a compiled policy hold one to four items (conditions, tags, statuses);
    // starting with room for four spares the growth path (about 140 instructions).
    let mut items = Vec::with_capacity(4);
    loop {
        items.push(item(r)?);
        match r.peek() {
            Some(b',') => r.pos += 1,
            Some(b']') => {
                r.leave();
                return Some(items);
            }
            _ => return None,
        }
    }
}

fn strings(r: &mut Reader<'_>) -> Option<Vec<String>> {
    list(r, owned_string)
}

/// Why [`policy`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GaveUp {
    /// The top-level `v` is this integer, not [`FORMAT_VERSION`].
    Version(u64),
    /// At this byte.
    At(usize),
}

/// The whole text as a policy; `only_locales` as in [`Reader::messages`]. With `triggers`,
/// only the rules for one of those triggers (bits as `Rule::triggers`) are built; the others
/// are checked as JSON and left out.
pub(super) fn policy(
    r: &mut Reader<'_>,
    only_locales: Option<&[String]>,
    triggers: Option<u8>,
) -> Result<CompiledPolicy, GaveUp> {
    let mut version = None;
    match whole(r, only_locales, triggers, &mut version) {
        Some(policy) => Ok(policy),
        None => match version {
            Some(found) if found != u64::from(FORMAT_VERSION) => Err(GaveUp::Version(found)),
            _ => Err(GaveUp::At(r.pos)),
        },
    }
}

/// [`policy`], noting the top-level `v` in `version` once it is read.
fn whole(
    r: &mut Reader<'_>,
    only_locales: Option<&[String]>,
    triggers: Option<u8>,
    found_version: &mut Option<u64>,
) -> Option<CompiledPolicy> {
    let (mut version, mut header) = (false, false);
    let (mut id, mut ver, mut loc, mut tz) = (None, None, None, None);
    let (mut rules, mut default, mut messages) = (None, None, None);
    open(r, b'{')?;
    // Each key's value read, the key `to_json` writes next is tried first.
    let mut key = next_key_or(r, Some(const { guess(b"\"v\":") }), true);
    loop {
        key = match key {
            END => break,
            k if k == const { sig_of(b"v") } && !version => {
                let n = r.number_here("").ok()?;
                *found_version = n.as_u64();
                version = n.as_u64() == Some(u64::from(FORMAT_VERSION));
                if !version {
                    return None;
                }
                next_key_or(r, Some(const { guess(b",\"id\":") }), false)
            }
            k if k == const { sig_of(b"id") } && id.is_none() => {
                id = Some(owned_string(r)?);
                next_key_or(r, Some(const { guess(b",\"ver\":") }), false)
            }
            k if k == const { sig_of(b"ver") } && ver.is_none() => {
                ver = Some(owned_string(r)?);
                next_key_or(r, Some(const { guess(b",\"loc\":") }), false)
            }
            k if k == const { sig_of(b"loc") } && loc.is_none() => {
                loc = Some(owned_string(r)?);
                next_key_or(r, Some(const { guess(b",\"tz\":") }), false)
            }
            k if k == const { sig_of(b"tz") } && tz.is_none() => {
                tz = Some(owned_string(r)?);
                next_key_or(r, Some(const { guess(b",\"h\":") }), false)
            }
            // The Function's header, derived from the rules: checked as JSON, as the full
            // reader and `load` pass over it (numbers in an `f64`'s range, which `skip_json`
            // does not check).
            k if k == const { sig_of(b"h") } && !header => {
                header = true;
                r.skip().ok()?;
                next_key_or(r, Some(const { guess(b",\"r\":") }), false)
            }
            k if k == const { sig_of(b"r") } && rules.is_none() => {
                rules = Some(rules_for(r, triggers)?);
                next_key_or(r, Some(const { guess(b",\"d\":") }), false)
            }
            k if k == const { sig_of(b"d") } && default.is_none() => {
                default = Some(outcome(r)?);
                next_key_or(r, Some(const { guess(b",\"m\":") }), false)
            }
            k if k == const { sig_of(b"m") } && messages.is_none() => {
                // Until the default locale is known, every locale is kept, as the full reader
                // keeps them.
                let keep = only_locales.zip(loc.as_deref());
                messages = Some(messages_by_locale(r, keep)?);
                next_key_or(r, None, false)
            }
            _ => return None,
        };
    }
    r.end().ok()?;
    if !version {
        return None;
    }
    Some(CompiledPolicy {
        format: FORMAT_VERSION,
        id: id?,
        version: ver?,
        default_locale: loc?,
        timezone: tz?,
        rules: rules?,
        default: default?,
        messages: messages.unwrap_or_default(),
    })
}

/// The list of rules, without those whose triggers leave out all of `triggers`.
fn rules_for(r: &mut Reader<'_>, triggers: Option<u8>) -> Option<Vec<Rule>> {
    open(r, b'[')?;
    let mut rules = Vec::with_capacity(2);
    if r.peek() == Some(b']') {
        r.leave();
        return Some(rules);
    }
    loop {
        if let Some(rule) = rule(r, triggers, false)? {
            rules.push(rule.read()?);
        }
        match r.peek() {
            Some(b',') => r.pos += 1,
            Some(b']') => {
                r.leave();
                return Some(rules);
            }
            _ => return None,
        }
    }
}

/// Locale → key → text; with `keep` (the wanted locales and the default one), the other
/// locales are checked as JSON and dropped.
fn messages_by_locale(r: &mut Reader<'_>, keep: Option<(&[String], &str)>) -> Option<Messages> {
    let mut by_locale = TextMap::new();
    open(r, b'{')?;
    let mut first = true;
    while more_members(r, first)? {
        let locale = map_key(r)?;
        let kept = keep.is_none_or(|(wanted, default)| {
            *locale == *default || wanted.iter().any(|w| *w == *locale)
        });
        if kept {
            // A repeated key counts for its last value, as in the full reader.
            by_locale.insert(locale.into_owned(), texts(r)?);
        } else {
            skip_texts(r)?;
        }
        first = false;
    }
    Some(by_locale)
}

fn texts(r: &mut Reader<'_>) -> Option<TextMap<String>> {
    let mut texts = TextMap::new();
    open(r, b'{')?;
    let mut first = true;
    while more_members(r, first)? {
        let name = map_key(r)?;
        texts.insert(name.into_owned(), owned_string(r)?);
        first = false;
    }
    Some(texts)
}

/// A member of a rule the stream read: its value, or where the value is (`[start, end)`), to
/// be read if the rule decides ([`PolicyStream::whole`]).
enum Later<T> {
    Read(T),
    At(usize, usize),
}

impl<T> Later<T> {
    /// The value, read where it was passed over (at nesting `depth`) if it was.
    fn value(
        self,
        r: &mut Reader<'_>,
        depth: u32,
        read: fn(&mut Reader<'_>) -> Option<T>,
    ) -> Result<T, LoadError> {
        match self {
            Later::Read(value) => Ok(value),
            Later::At(start, end) => {
                (r.pos, r.depth) = (start, depth);
                read(r)
                    .filter(|_| r.pos == end)
                    .ok_or_else(|| stopped_at(r.pos))
            }
        }
    }
}

/// A rule as [`PolicyStream::next_rule`] reads it: what trying it takes (its triggers and
/// conditions), its id and outcome passed over when `to_json` wrote them (see
/// [`PolicyStream::whole`]).
pub struct StreamedRule {
    pub triggers: u8,
    pub when: Vec<Condition>,
    id: Later<String>,
    then: Later<Outcome>,
    /// The reader's depth inside the rule's object.
    depth: u32,
}

impl StreamedRule {
    /// The outcome, when it was read with the conditions (a rule written without `ol`).
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.then {
            Later::Read(outcome) => Some(outcome),
            Later::At(..) => None,
        }
    }

    /// The rule, when nothing was passed over.
    fn read(self) -> Option<Rule> {
        match (self.id, self.then) {
            (Later::Read(id), Later::Read(then)) => Some(Rule {
                id,
                triggers: self.triggers,
                when: self.when,
                then,
            }),
            _ => None,
        }
    }
}

/// A string passed over where it is plain (no escape), else read.
fn passed_string(r: &mut Reader<'_>) -> Option<Later<String>> {
    if r.peek() != Some(b'"') {
        return None;
    }
    let start = r.pos;
    let end = plain_run_end(r.bytes, start + 1);
    if r.bytes.get(end) != Some(&b'"') {
        return owned_string(r).map(Later::Read);
    }
    r.pos = end + 1;
    Some(Later::At(start, r.pos))
}

/// Where the outcome at `start` ends by the rule's `ol` (`len`), if the bytes there are
/// those `to_json` writes at the end of a rule's outcome: the outcome's `{` at `start`, its
/// `}` and the rule's, then the next rule's `,{"id":"` or the rules' `],"d":`. (Those bytes
/// occur nowhere inside an outcome: a string holds a `"` escaped, and no outcome key is
/// `id` or `d`.)
fn outcome_end(r: &Reader<'_>, start: usize, len: usize) -> Option<usize> {
    const NEXT_RULE: u64 = u64::from_le_bytes(*b"}},{\"id\"");
    const LAST_RULE: u64 = u64::from_le_bytes(*b"}}],\"d\":");
    let end = start.checked_add(len)?;
    let after = r.bytes.get(end.checked_sub(1)?..)?.first_chunk::<8>()?;
    let after = u64::from_le_bytes(*after);
    let lands = r.bytes.get(start) == Some(&b'{') && (after == NEXT_RULE || after == LAST_RULE);
    lands.then_some(end)
}

/// A rule's `ol` (see [`outcome_end`]). No reader checks it (the full reader and `load` pass
/// over it as over any key they do not know): for a value that is not an unsigned integer,
/// [`PolicyStream`] (`later`) passes it over as JSON (`Some(None)`), and the read of a whole
/// policy gives up, leaving it to the full reader.
#[inline(always)]
fn outcome_len(r: &mut Reader<'_>, later: bool) -> Option<Option<usize>> {
    let at = r.pos;
    // Inlined into both callers, with the length as `to_json` writes it read in place: a
    // call of `uint` cost 30 instructions a rule.
    r.peek();
    if let Some((len, digits)) = plain_digits(r.bytes.get(r.pos..).unwrap_or_default())
        && let Ok(len) = usize::try_from(len)
    {
        r.pos += digits;
        return Some(Some(len));
    }
    if let Some(len) = uint(r) {
        return Some(Some(len));
    }
    if !later {
        return None;
    }
    r.pos = at;
    skip_json(r, false, &mut false)?;
    Some(None)
}

/// A rule; `Some(None)` for one whose triggers leave out all of `triggers` (its members
/// after `t` checked as JSON only), unless it tests `product_tags`: the `productTags` input
/// variable lists the tags of the whole policy, and the Function matches Shopify's answers to
/// them by position (`CompiledPolicy::input_variables`), so such a rule is read whole.
/// `later`: the id and, by `ol`, the outcome are passed over (for [`PolicyStream`]), and so
/// is the rest of another trigger's rule ([`another_triggers_rest`]); else all is read (and
/// `ol` not used).
#[inline(never)]
fn rule(r: &mut Reader<'_>, triggers: Option<u8>, later: bool) -> Option<Option<StreamedRule>> {
    let (mut id, mut bits, mut when, mut then) = (None, None, None, None);
    let (mut outcome_len, mut seen_len) = (None, false);
    r.peek();
    let (start, depth) = (r.pos, r.depth);
    open(r, b'{')?;
    let inner_depth = r.depth;
    // Each key's value read, the key `to_json` writes next is tried first.
    let mut key = next_key_or(r, Some(const { guess(b"\"id\":") }), true);
    loop {
        key = match key {
            END => break,
            k if k == const { sig_of(b"id") } && id.is_none() => {
                id = Some(if later {
                    passed_string(r)?
                } else {
                    Later::Read(owned_string(r)?)
                });
                next_key_or(r, Some(const { guess(b",\"t\":") }), false)
            }
            k if k == const { sig_of(b"t") } && bits.is_none() => {
                let read: u8 = uint(r)?;
                // (`t` after `w` or `o`, not where `to_json` writes it: the rule is kept.)
                if triggers.is_some_and(|wanted| read & wanted == 0)
                    && when.is_none()
                    && then.is_none()
                {
                    return another_triggers_rule(r, (start, depth), later);
                }
                bits = Some(read);
                next_key_or(r, Some(const { guess(b",\"w\":") }), false)
            }
            k if k == const { sig_of(b"w") } && when.is_none() => {
                when = Some(conditions(r)?);
                next_key_or(r, Some(const { guess(b",\"ol\":") }), false)
            }
            k if k == const { sig_of(b"ol") } && !seen_len => {
                seen_len = true;
                outcome_len = self::outcome_len(r, later)?;
                next_key_or(r, Some(const { guess(b",\"o\":") }), false)
            }
            k if k == const { sig_of(b"o") } && then.is_none() => {
                r.peek();
                let start = r.pos;
                let passed = outcome_len
                    .filter(|_| later)
                    .and_then(|len| outcome_end(r, start, len));
                then = Some(match passed {
                    Some(end) => {
                        r.pos = end;
                        Later::At(start, end)
                    }
                    None => Later::Read(outcome(r)?),
                });
                next_key_or(r, None, false)
            }
            _ => return None,
        };
    }
    Some(Some(StreamedRule {
        id: id?,
        triggers: bits?,
        when: when.unwrap_or_default(),
        then: then?,
        depth: inner_depth,
    }))
}

/// [`rule`]'s answer for a rule of another trigger, after its `t`; `at`: where the rule
/// starts, and the reader's depth there. (Out of [`rule`]: its other paths are the hot ones.)
#[inline(never)]
fn another_triggers_rule(
    r: &mut Reader<'_>,
    at: (usize, u32),
    later: bool,
) -> Option<Option<StreamedRule>> {
    if later {
        return another_triggers_rest(r).map(|()| None);
    }
    let mut product_tags = false;
    skip_json(r, true, &mut product_tags)?;
    if !product_tags {
        return Some(None);
    }
    (r.pos, r.depth) = at;
    rule(r, None, later)
}

/// The rest of a rule of another trigger, after its `t`, for [`PolicyStream`], which leaves
/// such a rule out whatever it tests (see [`PolicyStream::next_rule`]): its conditions checked
/// as JSON, its outcome passed over by `ol` as a non-deciding rule's is (else checked as
/// JSON), its `}` taken. A repeated or unknown key gives up, as [`rule`] does.
fn another_triggers_rest(r: &mut Reader<'_>) -> Option<()> {
    let (mut seen, mut outcome_len) = (0u8, None);
    let mut key = next_key_or(r, Some(const { guess(b",\"w\":") }), false);
    loop {
        let bit = match key {
            END => return Some(()),
            k if k == const { sig_of(b"id") } => 1,
            k if k == const { sig_of(b"w") } => 2,
            k if k == const { sig_of(b"ol") } => 4,
            k if k == const { sig_of(b"o") } => 8,
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        key = match bit {
            4 => {
                outcome_len = self::outcome_len(r, true)?;
                next_key_or(r, Some(const { guess(b",\"o\":") }), false)
            }
            8 => {
                r.peek();
                match outcome_len.and_then(|len| outcome_end(r, r.pos, len)) {
                    Some(end) => r.pos = end,
                    None => skip_json(r, false, &mut false)?,
                }
                next_key_or(r, None, false)
            }
            _ => {
                skip_json(r, false, &mut false)?;
                next_key(r, false)
            }
        };
    }
}

/// By the bit of an outcome's key, the key `to_json` most often writes after it (as the
/// presets have them) as [`next_outcome_key`] compares it: `,"key":` as an integer, and the
/// key's signature; zeros for the `}`. (Two integers a key, not a [`Guess`]: a smaller table.)
const OUTCOME_KEYS_AFTER: [(u64, u64); 12] = {
    const fn after(text: &[u8]) -> (u64, u64) {
        let guess = guess(text);
        (guess.word, guess.sig)
    }
    [
        after(b",\"rs\":"),
        after(b",\"rf\":"),
        after(b",\"rk\":"),
        after(b",\"rk\":"),
        after(b",\"n\":"),
        (0, 0),
        after(b",\"tg\":"),
        after(b",\"msg\":"),
        (0, 0),
        (0, 0),
        (0, 0),
        after(b",\"rs\":"),
    ]
};

/// After the value of the outcome's key `bit`: [`next_key`], trying the key in
/// [`OUTCOME_KEYS_AFTER`] (or the `}`) first.
#[inline(always)]
fn next_outcome_key(r: &mut Reader<'_>, bit: u16) -> u64 {
    let (word, sig) = OUTCOME_KEYS_AFTER
        .get(bit.trailing_zeros() as usize)
        .copied()
        .unwrap_or_default();
    if word == 0 {
        return next_key_or(r, None, false);
    }
    // Every guess in the table is shorter than eight bytes.
    let len = 8 - word.leading_zeros() / 8;
    let text = r.bytes.get(r.pos..).and_then(<[u8]>::first_chunk::<8>);
    if let Some(text) = text
        && low_bytes(u64::from_le_bytes(*text), len) == word
    {
        r.pos += len as usize;
        return sig;
    }
    next_key(r, false)
}

/// An outcome, built in place: a bit per key read (so a repeated key gives up) rather than a
/// slot per field, which spares moving every field once more at the end.
#[inline(never)]
fn outcome(r: &mut Reader<'_>) -> Option<Outcome> {
    let mut out = Outcome::new(OutcomeKind::Deny);
    let mut seen = 0u16;
    open(r, b'{')?;
    // `to_json` writes `k` first.
    let mut key = next_key_or(r, Some(const { guess(b"\"k\":") }), true);
    loop {
        let bit = match key {
            END => break,
            k if k == const { sig_of(b"k") } => 1,
            k if k == const { sig_of(b"rs") } => 1 << 1,
            k if k == const { sig_of(b"rf") } => 1 << 2,
            k if k == const { sig_of(b"fee") } => 1 << 3,
            k if k == const { sig_of(b"rk") } => 1 << 4,
            k if k == const { sig_of(b"n") } => 1 << 5,
            k if k == const { sig_of(b"sn") } => 1 << 6,
            k if k == const { sig_of(b"tg") } => 1 << 7,
            k if k == const { sig_of(b"msg") } => 1 << 8,
            k if k == const { sig_of(b"hr") } => 1 << 9,
            k if k == const { sig_of(b"hm") } => 1 << 10,
            k if k == const { sig_of(b"ln") } => 1 << 11,
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        match bit {
            1 => out.kind = unit(r, &OUTCOME_KINDS)?,
            2 => out.reason = optional(r, |r| unit(r, &CANCEL_REASONS))?,
            4 => out.refund = optional(r, |r| unit(r, &REFUND_METHODS))?,
            8 => out.fee = optional(r, fee)?,
            16 => out.restock = bool(r)?,
            32 => out.notify = bool(r)?,
            64 => out.staff_note = optional(r, owned_string)?,
            128 => out.tags = strings(r)?,
            256 => out.message = optional(r, owned_string)?,
            512 => out.hold_reason = optional(r, owned_string)?,
            1024 => out.hold_minutes = optional(r, uint)?,
            _ => out.lines = optional(r, conditions)?,
        }
        key = next_outcome_key(r, bit);
    }
    // `k` is required.
    (seen & 1 != 0).then_some(out)
}

fn fee(r: &mut Reader<'_>) -> Option<Fee> {
    let fee = match variant(r)? {
        k if k == const { sig_of(b"pct") } => Fee::Percent(r.f64().ok()?),
        k if k == const { sig_of(b"fix") } => Fee::Fixed(owned_string(r)?),
        _ => return None,
    };
    close_variant(r)?;
    Some(fee)
}

#[inline(never)]
fn conditions(r: &mut Reader<'_>) -> Option<Vec<Condition>> {
    list(r, condition)
}

fn condition(r: &mut Reader<'_>) -> Option<Condition> {
    const FACT: Guess = guess(b"{\"f\":[");
    const LINES: Guess = guess(b"{\"l\":[");
    // The `{"f":` or `{"l":` of most conditions (followed by their `[`), in one comparison.
    r.peek();
    let head = r.bytes.get(r.pos..).and_then(<[u8]>::first_chunk::<8>);
    let name = match head.map(|word| u64::from_le_bytes(*word) & FACT.mask) {
        Some(word) if word == FACT.word || word == LINES.word => {
            r.enter().ok()?;
            r.pos += 4;
            if word == FACT.word {
                const { sig_of(b"f") }
            } else {
                const { sig_of(b"l") }
            }
        }
        _ => variant(r)?,
    };
    let condition = match name {
        k if k == const { sig_of(b"f") } => {
            open(r, b'[')?;
            let fact = fact_named(quoted_name(r)?)?;
            r.facts.insert(fact);
            comma(r)?;
            let test = test(r)?;
            close(r, b']')?;
            Condition::Fact(fact, test)
        }
        k if k == const { sig_of(b"l") } => {
            open(r, b'[')?;
            let quantifier = quantifier(r)?;
            comma(r)?;
            let conditions = conditions(r)?;
            close(r, b']')?;
            Condition::Lines(quantifier, conditions)
        }
        k if k == const { sig_of(b"all") } => Condition::All(conditions(r)?),
        k if k == const { sig_of(b"any") } => Condition::Any(conditions(r)?),
        k if k == const { sig_of(b"not") } => Condition::Not(Box::new(condition(r)?)),
        _ => return None,
    };
    close_variant(r)?;
    Some(condition)
}

fn quantifier(r: &mut Reader<'_>) -> Option<Quantifier> {
    if r.peek() == Some(b'{') {
        if variant(r)? != const { sig_of(b"count") } {
            return None;
        }
        let test = test(r)?;
        close_variant(r)?;
        return Some(Quantifier::Count(test));
    }
    match sig(quoted_name(r)?) {
        k if k == const { sig_of(b"any") } => Some(Quantifier::Any),
        k if k == const { sig_of(b"all") } => Some(Quantifier::All),
        k if k == const { sig_of(b"none") } => Some(Quantifier::None),
        _ => None,
    }
}

#[inline(never)]
fn test(r: &mut Reader<'_>) -> Option<Test> {
    let test = match variant(r)? {
        k if k == const { sig_of(b"is") } => Test::Is(bool(r)?),
        k if k == const { sig_of(b"eq") } => Test::Eq(test_number(r)?),
        k if k == const { sig_of(b"ne") } => Test::Ne(test_number(r)?),
        k if k == const { sig_of(b"lt") } => Test::Lt(test_number(r)?),
        k if k == const { sig_of(b"le") } => Test::Le(test_number(r)?),
        k if k == const { sig_of(b"gt") } => Test::Gt(test_number(r)?),
        k if k == const { sig_of(b"ge") } => Test::Ge(test_number(r)?),
        k if k == const { sig_of(b"in") } => Test::In(strings(r)?),
        k if k == const { sig_of(b"nin") } => Test::NotIn(strings(r)?),
        k if k == const { sig_of(b"pre") } => Test::Prefix(strings(r)?),
        k if k == const { sig_of(b"glob") } => Test::Matches(owned_string(r)?),
        k if k == const { sig_of(b"anyof") } => Test::AnyOf(strings(r)?),
        k if k == const { sig_of(b"allof") } => Test::AllOf(strings(r)?),
        k if k == const { sig_of(b"noneof") } => Test::NoneOf(strings(r)?),
        k if k == const { sig_of(b"allin") } => Test::AllIn(strings(r)?),
        k if k == const { sig_of(b"min") } => Test::AtLeast(owned_string(r)?),
        k if k == const { sig_of(b"max") } => Test::AtMost(owned_string(r)?),
        k if k == const { sig_of(b"before") } => Test::Before(uint(r)?),
        k if k == const { sig_of(b"after") } => Test::After(uint(r)?),
        k if k == const { sig_of(b"cut") } => cutoff(r)?,
        _ => return None,
    };
    close_variant(r)?;
    Some(test)
}

fn cutoff(r: &mut Reader<'_>) -> Option<Test> {
    let (mut at, mut days) = (None, None);
    open(r, b'{')?;
    let mut key = next_key_or(r, Some(const { guess(b"\"at\":") }), true);
    loop {
        key = match key {
            END => break,
            k if k == const { sig_of(b"at") } && at.is_none() => {
                at = Some(uint(r)?);
                next_key_or(r, Some(const { guess(b",\"days\":") }), false)
            }
            k if k == const { sig_of(b"days") } && days.is_none() => {
                days = Some(uint(r)?);
                next_key_or(r, None, false)
            }
            _ => return None,
        };
    }
    Some(Test::Cutoff {
        at: at?,
        days: days?,
    })
}

/// The Shopify Function's read of a policy with its header, one rule at a time (see
/// [`CompiledPolicy::stream`]): after the header, the reader stands in the rules' list.
pub struct PolicyStream<'a> {
    reader: Reader<'a>,
    trigger_bit: u8,
    /// The rules' `]` is taken.
    rules_done: bool,
    /// No rule has been read yet (so a `]` may follow the `[`).
    first: bool,
    /// The rules' `[`.
    rules_at: usize,
    /// From the header: see [`FunctionHeader::after_rules`].
    after_rules: [u32; 2],
    default_locale: String,
}

/// The decision's part of the policy after the rules, from [`PolicyStream::finish`].
pub struct StreamEnd {
    /// Whether the default outcome was read (no rule decided).
    pub default_read: bool,
    /// For the decision's wording: the policy's default locale, no rules, the default outcome
    /// when read (else `deny`, unused), and only the text of the deciding outcome's message
    /// in the locales a request in the run's locale can be shown (as [`CompiledPolicy::read_for_locale`]
    /// keeps them). Its id, version and time zone are empty: no decision names them, and the
    /// stream only checks them (the Function spent about 400 instructions a run keeping them).
    pub policy: CompiledPolicy,
}

/// The error for a text [`PolicyStream`] refuses: where reading stopped.
fn stopped_at(at: usize) -> LoadError {
    LoadError::Invalid {
        at,
        problem: NOT_COMPILED_FORM.to_string(),
    }
}

impl<'a> PolicyStream<'a> {
    /// The text up to the rules, as `to_json` writes it (whitespace aside): the header and a
    /// stream at the first rule. A text without the header (written before it existed) is
    /// read once through to work it out (every rule read whole, whatever its trigger), then
    /// streamed as the others.
    pub(super) fn open(
        json: &'a str,
        trigger_bit: u8,
    ) -> Result<(FunctionHeader, Self), LoadError> {
        let (header, stream) = Self::open_head(json, trigger_bit)?;
        if let Some(header) = header {
            return Ok((header, stream));
        }
        let (_, mut all) = Self::open_head(json, u8::MAX)?;
        let mut rules = Vec::new();
        while let Some(rule) = all.next_rule()? {
            rules.push(all.whole(rule)?);
        }
        let mut policy = all.finish(None, None)?.policy;
        policy.rules = rules;
        Ok((policy.function_header(), stream))
    }

    /// The text up to the rules: the header if there is one, and a stream at the first rule.
    fn open_head(
        json: &'a str,
        trigger_bit: u8,
    ) -> Result<(Option<FunctionHeader>, Self), LoadError> {
        let mut r = Reader::new(json);
        let mut version = None;
        match Self::read_head(&mut r, trigger_bit, &mut version) {
            Some(read) => Ok(read),
            None => match version {
                Some(found) if found != u64::from(FORMAT_VERSION) => {
                    Err(LoadError::UnsupportedVersion { found })
                }
                _ => Err(stopped_at(r.pos)),
            },
        }
    }

    fn read_head(
        r: &mut Reader<'a>,
        trigger_bit: u8,
        found_version: &mut Option<u64>,
    ) -> Option<(Option<FunctionHeader>, Self)> {
        open(r, b'{')?;
        if next_key_or(r, Some(const { guess(b"\"v\":") }), true) != const { sig_of(b"v") } {
            return None;
        }
        *found_version = uint_u64(r);
        if *found_version != Some(u64::from(FORMAT_VERSION)) {
            return None;
        }
        // The id, version and time zone are checked, not kept: no decision names them.
        passed_text_field(r, const { guess(b",\"id\":") })?;
        passed_text_field(r, const { guess(b",\"ver\":") })?;
        let default_locale = text_field(r, const { guess(b",\"loc\":") })?;
        passed_text_field(r, const { guess(b",\"tz\":") })?;
        let mut header = None;
        let mut key = next_key_or(r, Some(const { guess(b",\"h\":") }), false);
        if key == const { sig_of(b"h") } {
            header = Some(function_header(r)?);
            key = next_key_or(r, Some(const { guess(b",\"r\":") }), false);
        }
        if key != const { sig_of(b"r") } {
            return None;
        }
        r.peek();
        let rules_at = r.pos;
        open(r, b'[')?;
        let after_rules = header.as_ref().map_or([0, 0], |h| h.after_rules);
        let reader = std::mem::replace(r, Reader::new(""));
        Some((
            header,
            PolicyStream {
                reader,
                trigger_bit,
                rules_done: false,
                first: true,
                rules_at,
                after_rules,
                default_locale,
            },
        ))
    }

    /// The next rule for the trigger, `None` after the last. The rules of other triggers are
    /// passed over (their conditions checked as JSON, their outcomes jumped by `ol`); of the
    /// trigger's, the id and the outcome are passed
    /// over too where `to_json` wrote them (unchecked, unless [`PolicyStream::whole`] reads
    /// them).
    pub fn next_rule(&mut self) -> Result<Option<StreamedRule>, LoadError> {
        let r = &mut self.reader;
        while !self.rules_done {
            let more = match r.peek() {
                Some(b']') => false,
                Some(b',') if !self.first => {
                    r.pos += 1;
                    true
                }
                _ if self.first => true,
                _ => return Err(stopped_at(r.pos)),
            };
            self.first = false;
            if !more {
                r.leave();
                self.rules_done = true;
                break;
            }
            r.facts = FactSet::default();
            match rule(r, Some(self.trigger_bit), true) {
                Some(Some(rule)) if rule.triggers & self.trigger_bit != 0 => {
                    return Ok(Some(rule));
                }
                // Another trigger's: passed over (or read, where its `t` follows its
                // conditions or outcome), and left out.
                Some(_) => {}
                None => return Err(stopped_at(r.pos)),
            }
        }
        Ok(None)
    }

    /// The facts the conditions and line selector of the rule [`PolicyStream::next_rule`]
    /// last gave name (the selector's once its outcome is read: [`PolicyStream::whole`]).
    pub fn facts_read(&self) -> FactSet {
        self.reader.facts
    }

    /// `rule`, which [`PolicyStream::next_rule`] last gave, whole: its id and outcome read
    /// from where they were passed over. An outcome that does not end where the rule's `ol`
    /// says is refused.
    pub fn whole(&mut self, rule: StreamedRule) -> Result<Rule, LoadError> {
        let r = &mut self.reader;
        let (pos, depth) = (r.pos, r.depth);
        let id = rule.id.value(r, rule.depth, owned_string)?;
        let then = rule.then.value(r, rule.depth, outcome)?;
        (r.pos, r.depth) = (pos, depth);
        Ok(Rule {
            id,
            triggers: rule.triggers,
            when: rule.when,
            then,
        })
    }

    /// The line selector of `rule`'s outcome ([`PolicyStream::next_rule`] gave `rule`), as a
    /// `cancel_lines` outcome holding it alone, when the outcome was passed over and begins
    /// as `to_json` writes one (`{"k":"cancel_lines","ln":`, the selector before the rest):
    /// whether the rule selects any line, and so decides, is then known without reading its
    /// id or the rest of its outcome. `None` for any other outcome (read the rule whole).
    pub fn line_selector(&mut self, rule: &StreamedRule) -> Result<Option<Outcome>, LoadError> {
        const HEAD: &[u8] = br#"{"k":"cancel_lines","ln":"#;
        let Later::At(start, _) = rule.then else {
            return Ok(None);
        };
        let r = &mut self.reader;
        let head = r.bytes.get(start..start + HEAD.len());
        if !head.is_some_and(|head| same_text(head, HEAD)) {
            return Ok(None);
        }
        let (pos, depth) = (r.pos, r.depth);
        // Inside the outcome's object, as `outcome` reads its members.
        (r.pos, r.depth) = (start + HEAD.len(), rule.depth + 1);
        let lines = conditions(r);
        let stopped = r.pos;
        (r.pos, r.depth) = (pos, depth);
        let lines = lines.ok_or_else(|| stopped_at(stopped))?;
        Ok(Some(Outcome {
            lines: Some(lines),
            ..Outcome::new(OutcomeKind::CancelLines)
        }))
    }

    /// The rest of the text: the rules not read checked as JSON only, the default outcome
    /// read unless `decided` (the deciding rule's outcome), and of the messages only those
    /// the decision can show (those of [`message_locales`] for the request's `locale`, and
    /// the default one; the decisive outcome's key), the others checked as JSON.
    pub fn finish(
        mut self,
        decided: Option<&Outcome>,
        locale: Option<&str>,
    ) -> Result<StreamEnd, LoadError> {
        match self.finish_reading(decided, locale) {
            Some(end) => Ok(end),
            None => Err(stopped_at(self.reader.pos)),
        }
    }

    /// Goes to where the header says the text after the rules (`which` 0) or after the
    /// default (1) starts, if the bytes there are the `]` or `}` and the key that `to_json`
    /// writes there (`expected`) and it is ahead; the reader is then at the key's `,`, out of
    /// the rules' list.
    fn jump(&mut self, which: usize, expected: Guess) -> bool {
        let r = &mut self.reader;
        let Some(&offset) = self.after_rules.get(which) else {
            return false;
        };
        let target = self.rules_at.checked_add(offset as usize);
        let Some(target) = target.and_then(|end| end.checked_sub(1)) else {
            return false;
        };
        let word = r.bytes.get(target..).and_then(<[u8]>::first_chunk::<8>);
        let found =
            word.is_some_and(|word| u64::from_le_bytes(*word) & expected.mask == expected.word);
        if offset == 0 || target < r.pos || !found {
            return false;
        }
        r.pos = target + 1;
        if which == 0 {
            r.depth = r.depth.saturating_sub(1);
        }
        true
    }

    fn finish_reading(
        &mut self,
        decided: Option<&Outcome>,
        locale: Option<&str>,
    ) -> Option<StreamEnd> {
        // Passed over, not checked: where the header says the rules end, or else scanned for
        // the list's end.
        if !self.rules_done && !self.jump(0, const { guess(b"],\"d\":") }) {
            pass_over(&mut self.reader)?;
            close(&mut self.reader, b']')?;
        }
        let r = &mut self.reader;
        if next_key_or(r, Some(const { guess(b",\"d\":") }), false) != const { sig_of(b"d") } {
            return None;
        }
        let default = match decided {
            Some(_) => {
                // Passed over too.
                self.reader.peek();
                if !self.jump(1, const { guess(b"},\"m\":") }) {
                    let r = &mut self.reader;
                    open(r, b'{')?;
                    pass_over(r)?;
                    close(r, b'}')?;
                }
                None
            }
            None => Some(outcome(r)?),
        };
        let r = &mut self.reader;
        let key = decided
            .or(default.as_ref())
            .and_then(|o| o.message.as_deref());
        let mut messages = TextMap::new();
        match next_key_or(r, Some(const { guess(b",\"m\":") }), false) {
            END => {}
            k if k == const { sig_of(b"m") } => {
                messages = match key {
                    Some(key) => {
                        // (Worked out only here: most decisions show no message.)
                        let wanted_locales = message_locales(locale, None);
                        let keep = (wanted_locales.as_slice(), self.default_locale.as_str());
                        message_texts(r, keep, key)?
                    }
                    None => {
                        open(r, b'{')?;
                        pass_over_messages(r)?;
                        close(r, b'}')?;
                        TextMap::new()
                    }
                };
                if next_key_or(r, None, false) != END {
                    return None;
                }
            }
            _ => return None,
        }
        r.end().ok()?;
        Some(StreamEnd {
            default_read: default.is_some(),
            policy: CompiledPolicy {
                format: FORMAT_VERSION,
                // (Not kept by the stream: see `StreamEnd::policy`.)
                id: String::new(),
                version: String::new(),
                default_locale: std::mem::take(&mut self.default_locale),
                timezone: String::new(),
                rules: Vec::new(),
                default: default.unwrap_or(Outcome::new(OutcomeKind::Deny)),
                messages,
            },
        })
    }
}

/// The header, as `to_json` writes it: `{"n":[...],"pt":[...],"pa":bool}`.
fn function_header(r: &mut Reader<'_>) -> Option<FunctionHeader> {
    open(r, b'{')?;
    if next_key_or(r, Some(const { guess(b"\"n\":") }), true) != const { sig_of(b"n") } {
        return None;
    }
    let mut header = FunctionHeader::default();
    numbers(r, &mut header.needs)?;
    if next_key_or(r, Some(const { guess(b",\"pt\":") }), false) != const { sig_of(b"pt") } {
        return None;
    }
    header.product_tags = strings(r)?;
    if next_key_or(r, Some(const { guess(b",\"pa\":") }), false) != const { sig_of(b"pa") } {
        return None;
    }
    header.tags_by_any = bool(r)?;
    if next_key_or(r, Some(const { guess(b",\"at\":") }), false) != const { sig_of(b"at") } {
        return None;
    }
    numbers(r, &mut header.after_rules)?;
    (next_key_or(r, None, false) == END).then_some(header)
}

/// A member `key` (as `to_json` writes it next) whose value is a string.
fn text_field(r: &mut Reader<'_>, key: Guess) -> Option<String> {
    if next_key_or(r, Some(key), false) != key.sig {
        return None;
    }
    owned_string(r)
}

/// [`text_field`], the string checked and passed over. (Out of line: three copies would cost
/// the module more than the calls cost a run.)
#[inline(never)]
fn passed_text_field(r: &mut Reader<'_>, key: Guess) -> Option<()> {
    if next_key_or(r, Some(key), false) != key.sig || r.peek() != Some(b'"') {
        return None;
    }
    skip_string(r)
}

/// An array of exactly `out.len()` unsigned integers, into `out`: as `to_json` writes them
/// ([`plain_numbers`]) in one pass over the bytes, else each as [`uint`] reads it.
#[inline(never)]
fn numbers(r: &mut Reader<'_>, out: &mut [u32]) -> Option<()> {
    open(r, b'[')?;
    match plain_numbers(r.bytes, r.pos, out) {
        Some(end) => r.pos = end,
        None => {
            let mut first = true;
            for number in out.iter_mut() {
                if !first {
                    comma(r)?;
                }
                first = false;
                *number = uint(r)?;
            }
        }
    }
    close(r, b']')
}

/// `out.len()` integers from `at` as `to_json` writes them ([`plain_digits`], a comma
/// between, no whitespace), and where they end; `None` for any other form. (The header's
/// are read so on every run: a cursor of its own spares the reader's bookkeeping.)
#[inline(always)]
fn plain_numbers(bytes: &[u8], mut at: usize, out: &mut [u32]) -> Option<usize> {
    for (index, number) in out.iter_mut().enumerate() {
        if index > 0 {
            if bytes.get(at) != Some(&b',') {
                return None;
            }
            at += 1;
        }
        let (value, len) = plain_digits(bytes.get(at..)?)?;
        // (Nine digits always fit a `u32`.)
        *number = u32::try_from(value).ok()?;
        at += len;
    }
    Some(at)
}

/// Locale → the text of message `key`, in the locales `keep` keeps (the wanted ones and the
/// default); the other locales are passed over unchecked ([`pass_over`]), and the other
/// texts of a kept locale checked as strings. A repeated locale or key counts for its last
/// value, as in the full reader.
#[inline(never)]
fn message_texts(r: &mut Reader<'_>, keep: (&[String], &str), key: &str) -> Option<Messages> {
    let (wanted, default) = keep;
    let mut by_locale = TextMap::new();
    open(r, b'{')?;
    let mut first = true;
    while more_members(r, first)? {
        first = false;
        let locale = map_key(r)?;
        open(r, b'{')?;
        let is = |other: &str| same_text(other.as_bytes(), locale.as_bytes());
        if !is(default) && !wanted.iter().any(|w| is(w)) {
            pass_over(r)?;
            close(r, b'}')?;
            continue;
        }
        let mut text = None;
        let mut first_text = true;
        while more_members(r, first_text)? {
            first_text = false;
            if r.peek() != Some(b'"') {
                return None;
            }
            // As `to_json` writes a key: its bytes as they stand, compared with `key`.
            let start = r.pos + 1;
            let end = plain_run_end(r.bytes, start);
            let name: Cow<'_, str> = if r.bytes.get(end) == Some(&b'"') {
                r.pos = end + 1;
                Cow::Borrowed(r.text.get(start..end)?)
            } else {
                r.string().ok()?
            };
            colon(r)?;
            if same_text(name.as_bytes(), key.as_bytes()) {
                text = Some(owned_string(r)?);
            } else {
                if r.peek() != Some(b'"') {
                    return None;
                }
                skip_string(r)?;
            }
        }
        // (A locale without the text keeps an empty map: as absent, to the lookup.)
        let mut texts = TextMap::new();
        if let Some(text) = text {
            texts.insert(key.to_owned(), text);
        }
        by_locale.insert(locale.into_owned(), texts);
    }
    Some(by_locale)
}

/// After the messages' `{`, for a decision that shows none: moves to their closing `}`, not
/// taken. Where the text ends as `to_json` ends it (a locale's last text, or an empty
/// locale, then the messages' `}` and the policy's: `"}}}` or `{}}}`, their first byte
/// inside the messages), straight there: the messages are then passed over unlooked-at, as
/// [`pass_over`] passes them over unchecked, and scanning them cost more than all the rules
/// read before. Otherwise [`pass_over`].
#[inline(never)]
fn pass_over_messages(r: &mut Reader<'_>) -> Option<()> {
    let len = r.bytes.len();
    if let Some(last_text) = len.checked_sub(4)
        && last_text >= r.pos
        && matches!(r.bytes.get(last_text..), Some(b"\"}}}" | b"{}}}"))
    {
        r.pos = last_text + 2;
        return Some(());
    }
    pass_over(r)
}

/// Moves to the `]` or `}` that closes the container the reader is in, not taken, passing
/// over what comes before it without checking it: only strings (for the brackets they may
/// hold) and brackets are looked at, so what is passed over is not known to be JSON. (The
/// Function passes over the rules after the one that decides, and the parts of the default
/// outcome and of the messages its decision does not use: checking them as JSON cost more
/// than reading the rules that decide.) Gives up at the text's end.
#[inline(never)]
fn pass_over(r: &mut Reader<'_>) -> Option<()> {
    let bytes = r.bytes;
    let mut at = r.pos;
    let mut depth = 0u32;
    loop {
        match *bytes.get(at)? {
            b'"' => {
                // Past the string: escapes taken two bytes at a time.
                at += 1;
                loop {
                    at = plain_run_end(bytes, at);
                    match bytes.get(at)? {
                        b'"' => break,
                        b'\\' => at += 2,
                        // A control character: not JSON, but nothing to stop at.
                        _ => at += 1,
                    }
                }
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                if depth == 0 {
                    r.pos = at;
                    return Some(());
                }
                depth -= 1;
            }
            _ => {}
        }
        at += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// The skipper `skip_json` replaced (a call per value), kept as the reference it must
    /// agree with.
    fn old_skip_members(r: &mut Reader<'_>, product_tags: &mut bool) -> Option<()> {
        while more_members(r, false)? {
            skip_string(r)?;
            colon(r)?;
            old_skip_value(r, product_tags)?;
        }
        Some(())
    }

    fn old_skip_value(r: &mut Reader<'_>, product_tags: &mut bool) -> Option<()> {
        match r.peek()? {
            b'"' => {
                let start = r.pos;
                skip_string(r)?;
                if r.pos - start == 14 && r.bytes.get(start..r.pos) == Some(b"\"product_tags\"") {
                    *product_tags = true;
                }
                Some(())
            }
            b'{' => {
                open(r, b'{')?;
                if more_members(r, true)? {
                    skip_string(r)?;
                    colon(r)?;
                    old_skip_value(r, product_tags)?;
                    old_skip_members(r, product_tags)?;
                }
                Some(())
            }
            b'[' => {
                open(r, b'[')?;
                if r.peek() == Some(b']') {
                    r.leave();
                    return Some(());
                }
                loop {
                    old_skip_value(r, product_tags)?;
                    match r.peek() {
                        Some(b',') => r.pos += 1,
                        Some(b']') => {
                            r.leave();
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' | b'f' => bool(r).map(drop),
            b'n' => null(r).then_some(()),
            b'-' | b'0'..=b'9' => r.number().ok().map(drop),
            _ => None,
        }
    }

    /// `skip_json` and the reference on `json`, as one value (`inside_object` false) or as the
    /// rest of an object after its `{"t":2`, at depth `depth`: whether each accepts, where it ends, its
    /// depth, and whether it saw `"product_tags"`.
    fn skips(json: &str, inside_object: bool, depth: u32) -> [(bool, usize, u32, bool); 2] {
        let mut results = [(false, 0, 0, false); 2];
        for (i, result) in results.iter_mut().enumerate() {
            let mut r = Reader::new(json);
            r.depth = depth;
            if inside_object {
                // After `{"t":2`.
                r.pos = 6;
            }
            let mut tags = false;
            let ok = match (i, inside_object) {
                (0, _) => skip_json(&mut r, inside_object, &mut tags).is_some(),
                (_, true) => old_skip_members(&mut r, &mut tags).is_some(),
                (_, false) => old_skip_value(&mut r, &mut tags).is_some(),
            };
            *result = if ok {
                (true, r.pos, r.depth, tags)
            } else {
                (false, 0, 0, false)
            };
        }
        results
    }

    /// A test's number: whether read in place (a whole number as `to_json` writes it) or by
    /// the general reader, the value and the position `Reader::f64` gives, and a refusal where
    /// it refuses.
    #[test]
    fn test_numbers_read_as_f64_reads_them() {
        for text in [
            "60.0",
            "0.0",
            "0.5",
            "00.0",
            "01.0",
            "60.00",
            "60.01",
            "60.0e1",
            "60.0E1",
            "60",
            "-1.0",
            "123456789.0",
            "1234567890.0",
            "999999999.0",
            "60.0]",
            "60.0}",
            "60.0,",
            "1e2",
            "1.",
            ".5",
            "-",
            "",
            "x",
            " 7.0",
            "7.0 ",
            "4294967296.0",
        ] {
            let mut fast = Reader::new(text);
            let mut full = Reader::new(text);
            let expected = full.f64().ok();
            assert_eq!(test_number(&mut fast), expected, "{text}");
            if expected.is_some() {
                assert_eq!(fast.pos, full.pos, "{text}");
            }
        }
    }

    /// The header's number arrays: each number as `uint` reads it, whether `numbers` takes it
    /// on its own way (plain digits) or leaves it to `uint`.
    #[test]
    fn numbers_read_as_uint_reads_each() {
        let by_uint = |text: &str, len: usize| -> Option<(Vec<u32>, usize)> {
            let mut r = Reader::new(text);
            open(&mut r, b'[')?;
            let mut out = Vec::new();
            for i in 0..len {
                if i > 0 {
                    comma(&mut r)?;
                }
                out.push(uint(&mut r)?);
            }
            close(&mut r, b']')?;
            Some((out, r.pos))
        };
        for text in [
            "[0,0,0]",
            "[66580,0,12]",
            "[1,2,3]",
            "[999999999,0,1]",
            "[4294967295,0,1]",
            "[4294967296,0,1]",
            "[1234567890,0,1]",
            "[01,0,0]",
            "[0,00,0]",
            "[1.0,0,0]",
            "[1e2,0,0]",
            "[ 1 , 2 , 3 ]",
            "[1,2]",
            "[1,2,3,4]",
            "[-1,0,0]",
            "[,0,0]",
            "[0,0,0",
        ] {
            let mut r = Reader::new(text);
            let mut out = [0u32; 3];
            let read = numbers(&mut r, &mut out).map(|()| (out.to_vec(), r.pos));
            assert_eq!(read, by_uint(text, 3), "{text}");
        }
    }

    #[test]
    fn skipped_json_is_checked_as_before() {
        let well_formed = [
            r#"{"w":[{"f":["b2b",{"is":true}]},{"f":["financial_status",{"in":["PENDING","AUTHORIZED"]}]}],"o":{"k":"cancel","rs":"CUSTOMER","rf":null,"rk":false,"n":true}}"#,
            r#"{"w":[{"f":["minutes_since_placed",{"lt":120.0}]},{"l":["any",[{"f":["product_tags",{"anyof":["x"]}]}]]}]}"#,
            r#"{"product_tags":1,"a":"product_tags"}"#,
            r#"{"a":"product\u005ftags","b":"produc_tags","c":["product_tagsx"]}"#,
            r#"[-0,1,-2.5,3e7,4E-2,5.0e+3,0.25,12345678901234567890123]"#,
            r#"[[],{},[[]],{"a":{}},[{}],"",true,false,null]"#,
            r#"{ "a" : [ 1 , "b" , { "c" : null } ] , "d" : true }"#,
            "\t\n\r {\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
            r#"{"a":"long text with spaces, é and more than eight bytes"}"#,
            r#""just a string""#,
            "7",
        ];
        let malformed = [
            // Numbers.
            "[01]",
            "[1.]",
            "[-]",
            "[1e]",
            "[1e+]",
            "[.5]",
            "[+1]",
            "[-a]",
            "[0x1]",
            // Strings.
            r#"{"a":"unterminated}"#,
            r#"{"a:1}"#,
            r#"["a\x"]"#,
            r#"["\u12"]"#,
            "[\"a\u{1}b\"]",
            "[\"a\tb\"]",
            r#"[ 'a' ]"#,
            // Structure.
            "[1}",
            r#"{"a":1]"#,
            "[1,]",
            "{,}",
            r#"{"a"1}"#,
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{1:2}"#,
            "[1 2]",
            "[",
            "{",
            "{]",
            "[}",
            "[[]}",
            r#"{"a":[1,2}"#,
            "]",
            "}",
            "",
            "   ",
            // Literals.
            "[tru]",
            "[True]",
            "[nul]",
            "[falsey]",
            "[undefined]",
        ];
        for json in well_formed.into_iter().chain(malformed) {
            let [new, old] = skips(json, false, 3);
            assert_eq!(new, old, "{json}");
            // As the rest of a rule: after `{"t":2`.
            let rule = format!(r#"{{"t":2,"x":{json}}}"#);
            let [new, old] = skips(&rule, true, 3);
            assert_eq!(new, old, "{rule}");
        }
        for json in well_formed {
            assert!(skips(json, false, 3)[0].0, "{json}");
            let spaced = json.replace(',', " ,\n ").replace(':', "\t: ");
            let [new, old] = skips(&spaced, false, 3);
            assert_eq!(new, old, "{spaced}");
        }
        for json in malformed {
            assert!(!skips(json, false, 3)[0].0, "{json}");
        }
        // `"product_tags"` as a value, not as a key or escaped.
        assert!(skips(well_formed[1], false, 3)[0].3);
        assert!(skips(well_formed[2], false, 3)[0].3);
        assert!(!skips(r#"{"product_tags":1}"#, false, 3)[0].3);
        assert!(!skips(well_formed[3], false, 3)[0].3);
        // Nesting stops where `Reader::enter` stops it, objects and arrays matched at every
        // level.
        for depth in [0, 2, 60, 120, 126, 127] {
            for levels in [1, 2, 63, 64, 65, 66, 125, 126, 127, 128] {
                let arrays = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
                let mixed = format!("{}1{}", r#"{"a":["#.repeat(levels), "]}".repeat(levels));
                let crossed = format!("{}1{}", r#"{"a":["#.repeat(levels), "}]".repeat(levels));
                for json in [arrays, mixed, crossed] {
                    let [new, old] = skips(&json, false, depth);
                    assert_eq!(new, old, "{depth} {levels} {json}");
                }
            }
        }
    }

    #[test]
    fn unit_names_are_matched_a_word_at_a_time() {
        let letters = "abcdefghijklmn";
        for len in 0..=14 {
            let name = &letters[..len];
            let table = [(quoted(name.as_bytes()), len)];
            for after in ["", ",\"x\":1}", "}", " ", "\"", "ab\"", "\u{1}"] {
                let json = format!("  \"{name}\"{after}");
                let mut r = Reader::new(&json);
                assert_eq!(unit(&mut r, &table), Some(len), "{json}");
                assert_eq!(r.pos, len + 4, "{json}");
            }
            // Shorter, longer, changed, or not a string.
            let mut others = vec![
                format!("\"{name}x\""),
                format!("\"{name}\\\"\""),
                format!("\"{name}"),
                format!("{name}\""),
                format!("'{name}'"),
            ];
            if len > 0 {
                others.push(format!("\"{}\"", &name[1..]));
                others.push(format!("\"{}\"", &name[..len - 1]));
                others.push(format!("\"{}#\"", &name[..len - 1]));
                others.push(format!("\"#{}\"", &name[1..]));
            }
            for json in others {
                assert_eq!(unit(&mut Reader::new(&json), &table), None, "{json}");
            }
        }
        // Escapes and control characters name nothing.
        for json in [
            "\"a\\\"b\"",
            "\"a\u{1}b\"",
            "\"all\\u006fw\"",
            "\"den\\u0079\"",
            "\"deny\u{0}\"",
        ] {
            assert_eq!(unit(&mut Reader::new(json), &OUTCOME_KINDS), None, "{json}");
        }
    }

    /// Keys and names with escapes, which `load` reads, are left to the full reader.
    #[test]
    fn escaped_keys_and_names_give_up() {
        let plain = r#"{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[{"id":"a","t":1,"w":[{"f":["b2b",{"is":true}]},{"l":["any",[]]}],"o":{"k":"deny"}}],"d":{"k":"allow"}}"#;
        assert!(policy(&mut Reader::new(plain), None, None).is_ok());
        for (from, to) in [
            (r#""ver""#, r#""v\u0065r""#),
            (r#""tz""#, r#""\u0074z""#),
            (r#""t":"#, r#""\u0074":"#),
            (r#""w""#, r#""\u0077""#),
            (r#""is""#, r#""i\u0073""#),
            (r#"{"f""#, r#"{"\u0066""#),
            (r#""k":"deny""#, r#""k":"d\u0065ny""#),
            (r#""k":"allow""#, r#""\u006b":"allow""#),
            (r#""b2b""#, r#""b2\u0062""#),
            (r#""b2b""#, r#""\u0062\u0032b""#),
            (r#""any""#, r#""an\u0079""#),
        ] {
            let json = plain.replacen(from, to, 1);
            assert_ne!(json, plain);
            assert!(CompiledPolicy::load(&json).is_ok(), "{json}");
            assert!(
                policy(&mut Reader::new(&json), None, None).is_err(),
                "{json}"
            );
        }
    }

    /// Keys where `to_json` writes them are matched whole; elsewhere (other order, whitespace)
    /// they read the same, and a key repeated where another was expected still gives up.
    #[test]
    fn guessed_keys_read_as_other_keys() {
        let plain = r#"{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[{"id":"a","t":1,"w":[{"f":["b2b",{"is":true}]},{"l":["any",[{"f":["sku",{"in":["x"]}]}]]}],"o":{"k":"deny"}}],"d":{"k":"allow"},"m":{"en":{"a":"b"}}}"#;
        let expected = policy(&mut Reader::new(plain), None, None).unwrap();
        assert_eq!(expected, CompiledPolicy::load(plain).unwrap());
        for (from, to) in [
            (r#"{"id":"a","t":1,"#, r#"{"t":1,"id":"a","#),
            (r#"{"id":"a","#, r#"{ "id":"a", "#),
            (r#"{"f":["b2b""#, r#"{"f": ["b2b""#),
            (r#"{"f":["b2b""#, r#"{ "f":["b2b""#),
            (r#"{"l":["any""#, r#"{"l" :["any""#),
            (r#"{"v":1,"id":"p","#, r#"{"id":"p","v":1,"#),
            (r#"}}}"#, r#"} } }"#),
        ] {
            let json = plain.replacen(from, to, 1);
            assert_ne!(json, plain);
            assert_eq!(
                policy(&mut Reader::new(&json), None, None),
                Ok(expected.clone())
            );
        }
        for (from, to) in [
            (r#""t":1,"#, r#""t":1,"t":1,"#),
            (r#""t":1,"#, r#""t":1,"id":"b","#),
            (r#""ver":"1","#, r#""ver":"1","id":"q","#),
            (
                r#""o":{"k":"deny"}"#,
                r#""o":{"k":"deny"},"o":{"k":"deny"}"#,
            ),
            (r#""d":{"k":"allow"}"#, r#""d":{"k":"allow"},"r":[]"#),
            (
                r#"{"f":["b2b",{"is":true}]}"#,
                r#"{"f":["b2b",{"is":true}],"f":1}"#,
            ),
        ] {
            let json = plain.replacen(from, to, 1);
            assert_ne!(json, plain);
            assert!(
                policy(&mut Reader::new(&json), None, None).is_err(),
                "{json}"
            );
        }
    }

    /// An outcome's keys in `to_json`'s order, in others, and repeated where the next key is
    /// guessed.
    #[test]
    fn outcome_keys_read_in_any_order_once() {
        let doc = |outcome: &str| {
            format!(r#"{{"v":1,"id":"p","ver":"1","loc":"en","tz":"UTC","r":[],"d":{outcome}}}"#)
        };
        let outcomes = [
            r#"{"k":"cancel","rs":"CUSTOMER","rf":"original","rk":true,"n":true}"#,
            r#"{"k":"cancel","rs":"CUSTOMER","rf":"original","rk":true,"n":true,"msg":"a"}"#,
            r#"{"k":"cancel","rs":"FRAUD","rf":"none","fee":{"pct":5.0},"rk":false,"n":true,"msg":"a","ln":[]}"#,
            r#"{"k":"review","sn":"x","tg":["t"],"msg":"a"}"#,
            r#"{"k":"hold","sn":"x","tg":["t"],"hr":"h","hm":5}"#,
            r#"{"k":"allow","msg":"a"}"#,
            r#"{"k":"deny"}"#,
            r#"{"n":true,"k":"cancel","rk":true,"rf":"original","rs":"CUSTOMER"}"#,
            r#"{"msg":"a","tg":["t"],"sn":"x","k":"review"}"#,
            r#"{ "k" : "cancel" , "rs" : "CUSTOMER" , "rf" : "original" , "n" : true }"#,
        ];
        for outcome in outcomes {
            let json = doc(outcome);
            let fast = policy(&mut Reader::new(&json), None, None);
            assert_eq!(fast, Ok(CompiledPolicy::load(&json).unwrap()), "{json}");
        }
        for (from, to) in [
            (r#""k":"cancel","#, r#""k":"cancel","k":"cancel","#),
            (r#""rs":"CUSTOMER","#, r#""rs":"CUSTOMER","rs":"FRAUD","#),
            (r#""rf":"original","#, r#""rf":"original","rf":"none","#),
            (r#""rk":true,"#, r#""rk":true,"rk":true,"#),
            (r#""n":true"#, r#""n":true,"n":true"#),
            (r#""rs":"CUSTOMER","#, r#""rs":"CUSTOMER","k":"allow","#),
        ] {
            let json = doc(&outcomes[0].replacen(from, to, 1));
            assert!(
                policy(&mut Reader::new(&json), None, None).is_err(),
                "{json}"
            );
        }
        for (from, to) in [
            (r#""sn":"x","#, r#""sn":"x","sn":"y","#),
            (r#""tg":["t"],"#, r#""tg":["t"],"tg":[],"#),
            (r#""msg":"a""#, r#""msg":"a","msg":"b""#),
        ] {
            let json = doc(&outcomes[3].replacen(from, to, 1));
            assert!(
                policy(&mut Reader::new(&json), None, None).is_err(),
                "{json}"
            );
        }
    }

    #[test]
    fn signatures_tell_the_names_apart() {
        let mut names: Vec<&str> = FACTS.iter().map(|(n, _)| *n).collect();
        names.extend([
            "v", "id", "ver", "loc", "tz", "r", "d", "m", "t", "w", "o", "k", "rs", "rf", "fee",
            "rk", "n", "sn", "tg", "msg", "hr", "hm", "ln", "pct", "fix", "f", "l", "all", "any",
            "not", "none", "count", "is", "eq", "ne", "lt", "le", "gt", "ge", "in", "nin", "pre",
            "glob", "anyof", "allof", "noneof", "allin", "min", "max", "before", "after", "cut",
            "at", "days",
        ]);
        for name in &names {
            assert_eq!(sig(name.as_bytes()), sig_of(name.as_bytes()), "{name}");
        }
        let mut sigs: Vec<u64> = names.iter().map(|n| sig(n.as_bytes())).collect();
        sigs.sort_unstable();
        sigs.dedup();
        assert_eq!(sigs.len(), names.len());
        assert!(!sigs.contains(&END));
        // Exact up to seven bytes: a name and its extensions differ.
        assert_ne!(sig(b"in"), sig(b"in\0"));
        assert_ne!(sig(b""), sig(b"\0"));
        for (a, b) in [
            ("abcdefgh", "abcdefgh"),
            ("abcdefghijklmnopq", "abcdefghijklmnopq"),
        ] {
            assert!(same_text(a.as_bytes(), b.as_bytes()));
        }
        for (a, b) in [
            ("abcdefgh", "abcdefgi"),
            ("abcdefghijklmnopq", "abcdefghijklmnopr"),
        ] {
            assert!(!same_text(a.as_bytes(), b.as_bytes()));
            assert!(!same_text(a.as_bytes(), &b.as_bytes()[1..]));
        }
        fn unit_of<T: Copy>(table: &[(Quoted, T)], name: &str) -> Option<T> {
            let json = format!("\"{name}\"");
            unit(&mut Reader::new(&json), table)
        }
        assert_eq!(OUTCOME_KINDS.len(), OutcomeKind::ALL.len());
        for kind in OutcomeKind::ALL {
            assert_eq!(unit_of(&OUTCOME_KINDS, kind.name()), Some(kind));
        }
        assert_eq!(CANCEL_REASONS.len(), crate::outcome::CANCEL_REASONS.len());
        for name in crate::outcome::CANCEL_REASONS {
            assert_eq!(unit_of(&CANCEL_REASONS, name), CancelReason::by_name(name));
        }
        assert_eq!(REFUND_METHODS.len(), crate::outcome::REFUND_METHODS.len());
        for name in crate::outcome::REFUND_METHODS {
            assert_eq!(unit_of(&REFUND_METHODS, name), RefundMethod::by_name(name));
        }
        // Other texts, some close to the names, name nothing.
        for name in [
            "",
            "allo",
            "allowx",
            "cancel_line",
            "cancel_lines_",
            "CUSTOMERS",
            "ORIGINAL",
        ] {
            assert_eq!(unit_of(&OUTCOME_KINDS, name), None, "{name}");
            assert_eq!(unit_of(&CANCEL_REASONS, name), None, "{name}");
            assert_eq!(unit_of(&REFUND_METHODS, name), None, "{name}");
        }
        for name in [
            "",
            "b2",
            "b2bb",
            "product_tag",
            "product_tagss",
            &"x".repeat(31),
            &"x".repeat(40),
        ] {
            assert_eq!(fact_named(name.as_bytes()), None, "{name}");
        }
        for (name, fact) in FACTS {
            assert_eq!(ends(name.as_bytes()), ends_of(name.as_bytes()), "{name}");
            assert_eq!(fact_named(name.as_bytes()), Some(fact));
            // A changed byte anywhere, even where a long name's signature does not look.
            for at in 0..name.len() {
                let mut changed = name.to_string();
                changed.replace_range(at..at + 1, "#");
                assert_eq!(fact_named(changed.as_bytes()), None, "{changed}");
            }
        }
    }
}
