//! [`to_lowercase`]: `str::to_lowercase`, character for character, with tables a fifth of the
//! size of std's (whose 11.7 kB mapping table, with its code, was a tenth of the Function's
//! Wasm module). Tags, discount codes and locales are lower-cased with it, in the Function and
//! natively alike.
//!
//! The tables are derived from std's own `to_lowercase` by the tests below, which fail (and
//! print the tables anew) when a toolchain's Unicode version changes them, and check every
//! character against std.

/// `text.to_lowercase()`.
pub fn to_lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut lower = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            lower.push(c.to_ascii_lowercase());
        } else if c == 'Σ' {
            lower.push(if final_sigma(text, at) { 'ς' } else { 'σ' });
        } else if c == '\u{130}' {
            // The one character whose lower case is two: İ → i̇.
            lower.push_str("i\u{307}");
        } else {
            lower.push(lower_char(c));
        }
    }
    lower
}

/// Whether the Σ at byte `at` ends a word (Unicode's `Final_Sigma` condition, as std applies
/// it): a cased letter before it and none after it, case-ignorable characters passed over.
/// https://www.unicode.org/versions/Unicode16.0.0/core-spec/chapter-3/#G54277
fn final_sigma(text: &str, at: usize) -> bool {
    let before = text.get(..at).unwrap_or_default();
    let after = text.get(at + 'Σ'.len_utf8()..).unwrap_or_default();
    cased_next(before.chars().rev()) && !cased_next(after.chars())
}

/// Whether the first character that is not case-ignorable is cased.
fn cased_next(mut chars: impl Iterator<Item = char>) -> bool {
    chars
        .find(|&c| class(c) != Class::Ignorable)
        .is_some_and(|c| class(c) == Class::Cased)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `Case_Ignorable`.
    Ignorable,
    /// `Cased` and not `Case_Ignorable`.
    Cased,
    Other,
}

fn class(c: char) -> Class {
    if in_ranges(&IGNORABLE, c) {
        Class::Ignorable
    } else if in_ranges(&CASED, c) {
        Class::Cased
    } else {
        Class::Other
    }
}

/// Ranges packed as `first | (length - 1) << 21`, in order.
fn in_ranges(ranges: &[u32], c: char) -> bool {
    let c = u32::from(c);
    let after = ranges.partition_point(|&range| range & 0x1f_ffff <= c);
    after
        .checked_sub(1)
        .and_then(|i| ranges.get(i))
        .is_some_and(|&range| c - (range & 0x1f_ffff) <= range >> 21)
}

/// A non-ASCII character's lower case, where that is one character (all but İ).
fn lower_char(c: char) -> char {
    let code = u32::from(c);
    let after = LOWER.partition_point(|&run| (run as u32) & 0x1f_ffff <= code);
    let Some(&run) = after.checked_sub(1).and_then(|i| LOWER.get(i)) else {
        return c;
    };
    let (first, count) = ((run as u32) & 0x1f_ffff, (run as u32 >> 21) & 0x3ff);
    let step = if run & 1 << 31 == 0 { 1 } else { 2 };
    let offset = code - first;
    if offset % step != 0 || offset / step >= count {
        return c;
    }
    let delta = (run >> 32) as i32;
    code.checked_add_signed(delta)
        .and_then(char::from_u32)
        .unwrap_or(c)
}

/// Runs of non-ASCII characters whose lower case is `c + delta`, every character or every
/// other one (the ones between then being their own lower case), packed as
/// `first | count << 21 | every_other << 31 | delta << 32`, in order.
#[rustfmt::skip]
const LOWER: [u64; 184] = [
    0x2002e000c0, 0x2000e000d8, 0x183000100, 0x180600132, 0x181000139,
    0x182e0014a, 0xffffff8700200178, 0x180600179, 0xd200200181, 0x180400182,
    0xce00200186, 0x100200187, 0xcd00400189, 0x10020018b, 0x4f0020018e,
    0xca0020018f, 0xcb00200190, 0x100200191, 0xcd00200193, 0xcf00200194,
    0xd300200196, 0xd100200197, 0x100200198, 0xd30020019c, 0xd50020019d,
    0xd60020019f, 0x1806001a0, 0xda002001a6, 0x1002001a7, 0xda002001a9,
    0x1002001ac, 0xda002001ae, 0x1002001af, 0xd9004001b1, 0x1804001b3,
    0xdb002001b7, 0x1002001b8, 0x1002001bc, 0x2002001c4, 0x1002001c5,
    0x2002001c7, 0x1002001c8, 0x2002001ca, 0x1812001cb, 0x1812001de,
    0x2002001f1, 0x1804001f2, 0xffffff9f002001f6, 0xffffffc8002001f7, 0x1828001f8,
    0xffffff7e00200220, 0x181200222, 0x2a2b0020023a, 0x10020023b, 0xffffff5d0020023d,
    0x2a280020023e, 0x100200241, 0xffffff3d00200243, 0x4500200244, 0x4700200245,
    0x180a00246, 0x180400370, 0x100200376, 0x740020037f, 0x2600200386,
    0x2500600388, 0x400020038c, 0x3f0040038e, 0x2002200391, 0x20012003a3,
    0x8002003cf, 0x1818003d8, 0xffffffc4002003f4, 0x1002003f7, 0xfffffff9002003f9,
    0x1002003fa, 0xffffff7e006003fd, 0x5002000400, 0x2004000410, 0x182200460,
    0x18360048a, 0xf002004c0, 0x180e004c1, 0x1860004d0, 0x3004c00531,
    0x1c6004c010a0, 0x1c60002010c7, 0x1c60002010cd, 0x97d00a0013a0, 0x800c013f0,
    0x100201c89, 0xfffff44005601c90, 0xfffff44000601cbd, 0x189601e00, 0xffffe24100201e9e,
    0x186001ea0, 0xfffffff801001f08, 0xfffffff800c01f18, 0xfffffff801001f28, 0xfffffff801001f38,
    0xfffffff800c01f48, 0xfffffff880801f59, 0xfffffff801001f68, 0xfffffff801001f88, 0xfffffff801001f98,
    0xfffffff801001fa8, 0xfffffff800401fb8, 0xffffffb600401fba, 0xfffffff700201fbc, 0xffffffaa00801fc8,
    0xfffffff700201fcc, 0xfffffff800401fd8, 0xffffff9c00401fda, 0xfffffff800401fe8, 0xffffff9000401fea,
    0xfffffff900201fec, 0xffffff8000401ff8, 0xffffff8200401ffa, 0xfffffff700201ffc, 0xffffe2a300202126,
    0xffffdf410020212a, 0xffffdfba0020212b, 0x1c00202132, 0x1002002160, 0x100202183,
    0x1a034024b6, 0x3006002c00, 0x100202c60, 0xffffd60900202c62, 0xfffff11a00202c63,
    0xffffd61900202c64, 0x180602c67, 0xffffd5e400202c6d, 0xffffd60300202c6e, 0xffffd5e100202c6f,
    0xffffd5e200202c70, 0x100202c72, 0x100202c75, 0xffffd5c100402c7e, 0x186402c80,
    0x180402ceb, 0x100202cf2, 0x182e0a640, 0x181c0a680, 0x180e0a722,
    0x183e0a732, 0x18040a779, 0xffff75fc0020a77d, 0x180a0a77e, 0x10020a78b,
    0xffff5ad80020a78d, 0x18040a790, 0x18140a796, 0xffff5abc0020a7aa, 0xffff5ab10020a7ab,
    0xffff5ab50020a7ac, 0xffff5abf0020a7ad, 0xffff5abc0020a7ae, 0xffff5aee0020a7b0, 0xffff5ad60020a7b1,
    0xffff5aeb0020a7b2, 0x3a00020a7b3, 0x18100a7b4, 0xffffffd00020a7c4, 0xffff5abd0020a7c5,
    0xffff75c80020a7c6, 0x18040a7c7, 0xffff5a990020a7cb, 0x18100a7cc, 0xffff59bf0020a7dc,
    0x10020a7f5, 0x200340ff21, 0x2805010400, 0x28048104b0, 0x2701610570,
    0x2701e1057c, 0x2700e1058c, 0x2700410594, 0x4006610c80, 0x2002c10d50,
    0x20040118a0, 0x2004016e40, 0x1b03216ea0, 0x220441e900,
];

/// `Case_Ignorable` (as std's `to_lowercase` sees it).
#[rustfmt::skip]
const IGNORABLE: [u32; 464] = [
    0x27, 0x2e, 0x3a, 0x5e, 0x60, 0xa8, 0xad, 0xaf, 0xb4,
    0x2000b7, 0x17e002b0, 0x200374, 0x37a, 0x200384, 0x387, 0xc00483, 0x559, 0x55f,
    0x5800591, 0x5bf, 0x2005c1, 0x2005c4, 0x5c7, 0x5f4, 0xa00600, 0x1400610, 0x61c,
    0x640, 0x280064b, 0x670, 0xe006d6, 0x12006df, 0x6006ea, 0x70f, 0x711, 0x3400730,
    0x14007a6, 0x14007eb, 0x7fa, 0x7fd, 0x2e00816, 0x400859, 0x888, 0x200890, 0x1000897,
    0x72008c9, 0x93a, 0x93c, 0xe00941, 0x94d, 0xc00951, 0x200962, 0x971, 0x981,
    0x9bc, 0x6009c1, 0x9cd, 0x2009e2, 0x9fe, 0x200a01, 0xa3c, 0x200a41, 0x200a47,
    0x400a4b, 0xa51, 0x200a70, 0xa75, 0x200a81, 0xabc, 0x800ac1, 0x200ac7, 0xacd,
    0x200ae2, 0xa00afa, 0xb01, 0xb3c, 0xb3f, 0x600b41, 0xb4d, 0x200b55, 0x200b62,
    0xb82, 0xbc0, 0xbcd, 0xc00, 0xc04, 0xc3c, 0x400c3e, 0x400c46, 0x600c4a,
    0x200c55, 0x200c62, 0xc81, 0xcbc, 0xcbf, 0xcc6, 0x200ccc, 0x200ce2, 0x200d00,
    0x200d3b, 0x600d41, 0xd4d, 0x200d62, 0xd81, 0xdca, 0x400dd2, 0xdd6, 0xe31,
    0xc00e34, 0x1000e46, 0xeb1, 0x1000eb4, 0xec6, 0xc00ec8, 0x200f18, 0xf35, 0xf37,
    0xf39, 0x1a00f71, 0x800f80, 0x200f86, 0x1400f8d, 0x4600f99, 0xfc6, 0x60102d, 0xa01032,
    0x201039, 0x20103d, 0x201058, 0x40105e, 0x601071, 0x1082, 0x201085, 0x108d, 0x109d,
    0x10fc, 0x40135d, 0x401712, 0x201732, 0x201752, 0x201772, 0x2017b4, 0xc017b7, 0x17c6,
    0x14017c9, 0x17d7, 0x17dd, 0x80180b, 0x1843, 0x201885, 0x18a9, 0x401920, 0x201927,
    0x1932, 0x401939, 0x201a17, 0x1a1b, 0x1a56, 0xc01a58, 0x1a60, 0x1a62, 0xe01a65,
    0x1201a73, 0x1a7f, 0x1aa7, 0x5a01ab0, 0x1601ae0, 0x601b00, 0x1b34, 0x801b36, 0x1b3c,
    0x1b42, 0x1001b6b, 0x201b80, 0x601ba2, 0x201ba8, 0x401bab, 0x1be6, 0x201be8, 0x1bed,
    0x401bef, 0xe01c2c, 0x201c36, 0xa01c78, 0x401cd0, 0x1801cd4, 0xc01ce2, 0x1ced, 0x1cf4,
    0x201cf8, 0x7c01d2c, 0x1d78, 0xc801d9b, 0x1fbd, 0x401fbf, 0x401fcd, 0x401fdd, 0x401fed,
    0x201ffd, 0x80200b, 0x202018, 0x2024, 0x2027, 0x80202a, 0x802060, 0x1202066, 0x2071,
    0x207f, 0x1802090, 0x40020d0, 0x202c7c, 0x402cef, 0x2d6f, 0x2d7f, 0x3e02de0, 0x2e2f,
    0x3005, 0x60302a, 0x803031, 0x303b, 0xa03099, 0x4030fc, 0xa015, 0xa0a4f8, 0xa60c,
    0x60a66f, 0x120a674, 0xa67f, 0x60a69c, 0x20a6f0, 0x420a700, 0xa770, 0x40a788, 0x60a7f1,
    0x20a7f8, 0xa802, 0xa806, 0xa80b, 0x20a825, 0xa82c, 0x20a8c4, 0x220a8e0, 0xa8ff,
    0xe0a926, 0x140a947, 0x40a980, 0xa9b3, 0x60a9b6, 0x20a9bc, 0xa9cf, 0x20a9e5, 0xa0aa29,
    0x20aa31, 0x20aa35, 0xaa43, 0xaa4c, 0xaa70, 0xaa7c, 0xaab0, 0x40aab2, 0x20aab7,
    0x20aabe, 0xaac1, 0xaadd, 0x20aaec, 0x20aaf3, 0xaaf6, 0x80ab5b, 0x40ab69, 0xabe5,
    0xabe8, 0xabed, 0xfb1e, 0x200fbb2, 0x1e0fe00, 0xfe13, 0x1e0fe20, 0xfe52, 0xfe55,
    0xfeff, 0xff07, 0xff0e, 0xff1a, 0xff3e, 0xff40, 0xff70, 0x20ff9e, 0xffe3,
    0x40fff9, 0x101fd, 0x102e0, 0x810376, 0xa10780, 0x5210787, 0x10107b2, 0x410a01, 0x210a05,
    0x610a0c, 0x410a38, 0x10a3f, 0x210ae5, 0x610d24, 0x10d4e, 0x810d69, 0x10d6f, 0x210eab,
    0x10ec5, 0xa10efa, 0x1410f46, 0x610f82, 0x11001, 0x1c11038, 0x11070, 0x211073, 0x41107f,
    0x6110b3, 0x2110b9, 0x110bd, 0x110c2, 0x110cd, 0x411100, 0x811127, 0xe1112d, 0x11173,
    0x211180, 0x10111b6, 0x6111c9, 0x111cf, 0x41122f, 0x11234, 0x211236, 0x1123e, 0x11241,
    0x112df, 0xe112e3, 0x211300, 0x21133b, 0x11340, 0xc11366, 0x811370, 0xa113bb, 0x113ce,
    0x113d0, 0x113d2, 0x2113e1, 0xe11438, 0x411442, 0x11446, 0x1145e, 0xa114b3, 0x114ba,
    0x2114bf, 0x2114c2, 0x6115b2, 0x2115bc, 0x2115bf, 0x2115dc, 0xe11633, 0x1163d, 0x21163f,
    0x116ab, 0x116ad, 0xa116b0, 0x116b7, 0x1171d, 0x1171f, 0x611722, 0x811727, 0x101182f,
    0x211839, 0x21193b, 0x1193e, 0x11943, 0x6119d4, 0x2119da, 0x119e0, 0x1211a01, 0xa11a33,
    0x611a3b, 0x11a47, 0xa11a51, 0x411a59, 0x1811a8a, 0x211a98, 0x11b60, 0x411b62, 0x11b66,
    0xc11c30, 0xa11c38, 0x11c3f, 0x2a11c92, 0xc11caa, 0x211cb2, 0x211cb5, 0xa11d31, 0x11d3a,
    0x211d3c, 0xc11d3f, 0x11d47, 0x211d90, 0x11d95, 0x11d97, 0x11dd9, 0x211ef3, 0x211f00,
    0x811f36, 0x11f40, 0x11f42, 0x11f5a, 0x2013430, 0x1c13447, 0x161611e, 0x41612d, 0x816af0,
    0xc16b30, 0x616b40, 0x416d40, 0x216d6b, 0x16f4f, 0x2016f8f, 0x216fe0, 0x216fe3, 0x216ff2,
    0x61aff0, 0xc1aff5, 0x21affd, 0x21bc9d, 0x61bca0, 0x5a1cf00, 0x2c1cf30, 0x41d167, 0x1e1d173,
    0xc1d185, 0x61d1aa, 0x41d242, 0x6c1da00, 0x621da3b, 0x1da75, 0x1da84, 0x81da9b, 0x1c1daa1,
    0xc1e000, 0x201e008, 0xc1e01b, 0x21e023, 0x81e026, 0x7a1e030, 0x1e08f, 0x1a1e130, 0x1e2ae,
    0x61e2ec, 0x81e4eb, 0x21e5ee, 0x1e6e3, 0x1e6e6, 0x21e6ee, 0x1e6f5, 0x1e6ff, 0xc1e8d0,
    0xe1e944, 0x81f3fb, 0xe0001, 0xbee0020, 0x1dee0100,
];

/// `Cased` characters that are not `Case_Ignorable`.
#[rustfmt::skip]
const CASED: [u32; 151] = [
    0x3200041, 0x3200061, 0xaa, 0xb5, 0xba, 0x2c000c0, 0x3c000d8, 0x184000f8, 0x6001bc,
    0x19e001c4, 0x3200296, 0x600370, 0x200376, 0x40037b, 0x37f, 0x386, 0x400388, 0x38c,
    0x260038e, 0xa4003a3, 0x114003f7, 0x14a0048a, 0x4a00531, 0x5000560, 0x4a010a0, 0x10c7, 0x10cd,
    0x54010d0, 0x4010fd, 0xaa013a0, 0xa013f8, 0x1401c80, 0x5401c90, 0x401cbd, 0x5601d00, 0x1801d6b,
    0x4201d79, 0x22a01e00, 0xa01f18, 0x4a01f20, 0xa01f48, 0xe01f50, 0x1f59, 0x1f5b, 0x1f5d,
    0x3c01f5f, 0x6801f80, 0xc01fb6, 0x1fbe, 0x401fc2, 0xc01fc6, 0x601fd0, 0xa01fd6, 0x1801fe0,
    0x401ff2, 0xc01ff6, 0x2102, 0x2107, 0x120210a, 0x2115, 0x802119, 0x2124, 0x2126,
    0x2128, 0x60212a, 0xa0212f, 0x2139, 0x60213c, 0x802145, 0x214e, 0x3e02160, 0x202183,
    0x66024b6, 0xf602c00, 0xcc02c7e, 0x602ceb, 0x202cf2, 0x4a02d00, 0x2d27, 0x2d2d, 0x5a0a640,
    0x360a680, 0x9a0a722, 0x2c0a771, 0x60a78b, 0x980a790, 0x20a7f5, 0xa7fa, 0x540ab30, 0x100ab60,
    0x9e0ab70, 0xc0fb00, 0x80fb13, 0x320ff21, 0x320ff41, 0x9e10400, 0x46104b0, 0x46104d8, 0x1410570,
    0x1c1057c, 0xc1058c, 0x210594, 0x1410597, 0x1c105a3, 0xc105b3, 0x2105bb, 0x6410c80, 0x6410cc0,
    0x2a10d50, 0x2a10d70, 0x7e118a0, 0x7e16e40, 0x3016ea0, 0x3016ebb, 0xa81d400, 0x8c1d456, 0x21d49e,
    0x1d4a2, 0x21d4a5, 0x61d4a9, 0x161d4ae, 0x1d4bb, 0xc1d4bd, 0x801d4c5, 0x61d507, 0xe1d50d,
    0xc1d516, 0x361d51e, 0x61d53b, 0x81d540, 0x1d546, 0xc1d54a, 0x2a61d552, 0x301d6a8, 0x301d6c2,
    0x3c1d6dc, 0x301d6fc, 0x3c1d716, 0x301d736, 0x3c1d750, 0x301d770, 0x3c1d78a, 0x301d7aa, 0xe1d7c4,
    0x121df00, 0x261df0b, 0xa1df25, 0x861e900, 0x321f130, 0x321f150, 0x321f170,
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)] // test code

    use super::*;
    use proptest::prelude::*;

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x10_ffff).filter_map(char::from_u32)
    }

    /// Whether std lower-cases the Σ in `AΣ{c}{then}` as a final sigma.
    fn std_final(c: char, then: &str) -> bool {
        format!("AΣ{c}{then}").to_lowercase().starts_with("aς")
    }

    /// The classes std's `to_lowercase` gives each character, told by how they change Σ.
    fn std_class(c: char) -> Class {
        match (std_final(c, ""), std_final(c, "B")) {
            // Passed over: what follows decides.
            (true, false) => Class::Ignorable,
            (false, _) => Class::Cased,
            (true, true) => Class::Other,
        }
    }

    fn packed_ranges(members: impl Iterator<Item = char>) -> Vec<u32> {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for c in members.map(u32::from) {
            match ranges.last_mut() {
                Some((first, last)) if *last + 1 == c && c - *first < 2048 => *last = c,
                _ => ranges.push((c, c)),
            }
        }
        ranges
            .iter()
            .map(|&(first, last)| first | (last - first) << 21)
            .collect()
    }

    fn lower_runs() -> Vec<u64> {
        // (first, count, step, delta)
        let mut runs: Vec<(u32, u32, u32, i64)> = Vec::new();
        for c in all_chars().filter(|c| !c.is_ascii() && *c != '\u{130}') {
            let lower = c.to_lowercase().collect::<Vec<_>>();
            let [lower] = lower[..] else {
                panic!("{c:?} lower-cases to {lower:?}")
            };
            if lower == c {
                continue;
            }
            let (code, delta) = (
                u32::from(c),
                i64::from(u32::from(lower)) - i64::from(u32::from(c)),
            );
            if let Some((first, count, step, run_delta)) = runs.last_mut() {
                let next = *first + *count * *step;
                let extends = *run_delta == delta && *count < 1023;
                if extends && code == next {
                    *count += 1;
                    continue;
                }
                if extends && *count == 1 && code == *first + 2 {
                    (*count, *step) = (2, 2);
                    continue;
                }
            }
            runs.push((code, 1, 1, delta));
        }
        runs.iter()
            .map(|&(first, count, step, delta)| {
                u64::from(first | count << 21 | u32::from(step == 2) << 31)
                    | u64::from(delta as i32 as u32) << 32
            })
            .collect()
    }

    fn hex_list<T: std::fmt::LowerHex>(items: &[T]) -> String {
        items
            .iter()
            .map(|i| format!("{i:#x},"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn tables_are_the_ones_std_gives() {
        let lower = lower_runs();
        let ignorable = packed_ranges(all_chars().filter(|&c| std_class(c) == Class::Ignorable));
        let cased = packed_ranges(all_chars().filter(|&c| std_class(c) == Class::Cased));
        let same =
            lower[..] == LOWER[..] && ignorable[..] == IGNORABLE[..] && cased[..] == CASED[..];
        assert!(
            same,
            "the tables differ from std's; replace them with:\n\
             const LOWER: [u64; {}] = [{}];\n\
             const IGNORABLE: [u32; {}] = [{}];\n\
             const CASED: [u32; {}] = [{}];\n",
            lower.len(),
            hex_list(&lower),
            ignorable.len(),
            hex_list(&ignorable),
            cased.len(),
            hex_list(&cased),
        );
    }

    #[test]
    fn every_character_is_lower_cased_and_classed_as_std_does() {
        for c in all_chars() {
            assert_eq!(
                to_lowercase(c.encode_utf8(&mut [0; 4])),
                c.to_string().to_lowercase(),
                "{c:?}"
            );
            if !c.is_ascii() && c != '\u{130}' {
                assert_eq!(
                    lower_char(c).to_string(),
                    c.to_lowercase().to_string(),
                    "{c:?}"
                );
            }
            assert_eq!(class(c), std_class(c), "{c:?}");
        }
    }

    #[test]
    fn sigmas_in_context_are_lower_cased_as_std_does() {
        // Cased, case-ignorable and other characters around Σ, in every arrangement up to four.
        let pieces = [
            "Σ", "A", "a", "'", "\u{301}", ".", " ", "ǅ", "ʰ", "1", "İ", "ς",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        for text in texts {
            assert_eq!(to_lowercase(&text), text.to_lowercase(), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn texts_are_lower_cased_as_std_does(text in "\\PC{0,24}") {
            prop_assert_eq!(to_lowercase(&text), text.to_lowercase());
        }

        #[test]
        fn greek_texts_are_lower_cased_as_std_does(text in "[ΣσςΑαA.' \u{301}\u{345}ʰ]{0,12}") {
            prop_assert_eq!(to_lowercase(&text), text.to_lowercase());
        }
    }
}
