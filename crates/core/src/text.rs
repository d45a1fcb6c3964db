//! Byte-string tests eight bytes at a time. In Wasm, `==` on slices calls a `memcmp` that
//! compares a byte at a time (about twenty instructions a byte), and the Function compares
//! names and tags on every rule it reads.

/// Eight bytes of `text` from `at` as one little-endian integer, zeros (control characters)
/// past its end.
#[inline(always)]
pub(crate) fn word_at(text: &[u8], at: usize) -> u64 {
    let rest = text.get(at..).unwrap_or_default();
    match rest.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => last_word(rest),
    }
}

/// [`word_at`] within eight bytes of the text's end: rare in a policy's text, so kept out of
/// its callers.
#[cold]
#[inline(never)]
fn last_word(rest: &[u8]) -> u64 {
    rest.iter()
        .enumerate()
        .fold(0, |word, (i, &byte)| word | u64::from(byte) << (8 * i))
}

/// Whether two texts are the same: their lengths compared in place, their bytes a word at a
/// time ([`same_bytes`]).
#[inline(always)]
pub fn same_text(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_bytes(a, b)
}

/// [`same_text`] for texts of one length: eight bytes at a time, the last word overlapping
/// the one before it when the length is not a multiple of eight; four and four (overlapping)
/// from four to seven bytes; byte by byte below.
#[inline(never)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let long = |x: Option<&[u8; 8]>| x.map(|w| u64::from_le_bytes(*w));
    let short = |x: Option<&[u8; 4]>| x.map(|w| u32::from_le_bytes(*w));
    if a.len() >= 8 {
        return long(a.last_chunk()) == long(b.last_chunk())
            && a.chunks_exact(8)
                .zip(b.chunks_exact(8))
                .all(|(x, y)| long(x.first_chunk()) == long(y.first_chunk()));
    }
    if a.len() >= 4 {
        return short(a.first_chunk()) == short(b.first_chunk())
            && short(a.last_chunk()) == short(b.last_chunk());
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether `text` is ASCII without capital letters, and so its own lower case (as the
/// compiler writes tags).
pub fn ascii_without_capitals(text: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes below 0x80 only: adding 0x3f sets a byte's high bit from `A` (0x41) up, adding
    // 0x25 from past `Z` (0x5b) up, and neither carries into the next byte.
    const FROM_A: u64 = 0x3f3f_3f3f_3f3f_3f3f;
    const PAST_Z: u64 = 0x2525_2525_2525_2525;
    (0..text.len()).step_by(8).all(|at| {
        let w = word_at(text, at);
        let non_ascii = w & HIGH;
        let capital = w.wrapping_add(FROM_A) & !w.wrapping_add(PAST_Z) & HIGH;
        non_ascii == 0 && capital == 0
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // test code

    use super::*;

    #[test]
    fn same_text_compares_every_byte() {
        let letters = b"abcdefghijklmnopqrstuvwxyz";
        for len in 0..=24 {
            let a = &letters[..len];
            // (A copy elsewhere in memory.)
            let copy = a.to_vec();
            assert!(same_text(a, &copy), "{len}");
            assert!(!same_text(a, &letters[..len + 1]), "{len}");
            assert!(!same_text(a, &letters[1..len + 1]) || len == 0, "{len}");
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] = b'#';
                assert!(!same_text(a, &b), "{len} {at}");
                // A zero byte is a byte like any other.
                b[at] = 0;
                assert!(!same_text(a, &b), "{len} {at}");
            }
        }
    }

    #[test]
    fn ascii_without_capitals_agrees_with_the_byte_test_on_every_byte_everywhere() {
        let expected = |text: &[u8]| text.iter().all(|b| b.is_ascii() && !b.is_ascii_uppercase());
        for byte in 0..=255u8 {
            for len in 1..=17 {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert_eq!(
                        ascii_without_capitals(&text),
                        expected(&text),
                        "{byte:#x} at {at} of {len}"
                    );
                }
            }
        }
        assert!(ascii_without_capitals(b""));
        assert!(ascii_without_capitals("made-to-order_2".as_bytes()));
        assert!(!ascii_without_capitals("Gift".as_bytes()));
        assert!(!ascii_without_capitals("gavé".as_bytes()));
    }
}
