//! The input values as Shopify's provider hands them out: NaN-boxed handles decoded here with
//! plain bit operations. `shopify_function::wasm_api::Value` decodes every handle through
//! `NanBox::try_decode`, whose unknown-tag path builds a boxed error, on each call; reading
//! the tag and length straight from the bits costs a few instructions instead, and the input
//! is read through thousands of such calls on a long order.
//!
//! The layout is that of `shopify_function_wasm_api_core` 0.2.0's `NanBox` (the version the
//! provider, `shopify_function_v2`, speaks; a test pins it against that crate): a value whose
//! 13 bits below the sign are not all set is an `f64`; else bits 46..50 of the payload are the
//! tag, the 14 bits above the low 32 a length (all set: ask the provider), the low 32 a
//! pointer. On 64-bit hosts (native tests) the handle is a `u128` with the `f64` in the high
//! 64 bits and a 64-bit pointer; the constants below follow from the width as in that crate.
//!
//! In Wasm the provider's imports are called directly; natively the same functions of the
//! `shopify_function_provider` crate are, which `shopify_function::run_function_with_input`
//! has loaded with the input, so the unit tests run this same reader.

/// A raw NaN-boxed handle, as wide as the provider's (`shopify_function_wasm_api_core::Val`).
#[cfg(target_pointer_width = "32")]
type Val = u64;
#[cfg(not(target_pointer_width = "32"))]
type Val = u128;

/// Where an `f64` sits in a handle: its high 64 bits.
const F64_OFFSET: u32 = Val::BITS - 64;
/// The payload: tag, length and pointer.
const PAYLOAD_SIZE: u32 = 50 + F64_OFFSET;
/// The exponent and the two quiet-NaN bits, all set in a boxed value.
const NAN_MASK: Val = ((1 << 13) - 1) << PAYLOAD_SIZE;
const TAG_SIZE: u32 = 4;
/// Length and pointer.
const VALUE_SIZE: u32 = PAYLOAD_SIZE - TAG_SIZE;
const POINTER_SIZE: u32 = usize::BITS;
/// A length this large means "ask the provider" (`NanBox::MAX_VALUE_LENGTH`).
const MAX_LENGTH: usize = (1 << (VALUE_SIZE - POINTER_SIZE)) - 1;

const TAG_NULL: u32 = 0;
const TAG_BOOL: u32 = 1;
const TAG_STRING: u32 = 3;
const TAG_OBJECT: u32 = 4;
const TAG_ARRAY: u32 = 5;
/// Not a boxed value: an `f64` (the provider never boxes numbers with the number tag).
const NUMBER: u32 = u32::MAX;

#[cfg(target_arch = "wasm32")]
mod provider {
    use super::Val;

    #[link(wasm_import_module = "shopify_function_v2")]
    unsafe extern "C" {
        fn shopify_function_input_get() -> Val;
        fn shopify_function_input_get_val_len(scope: Val) -> usize;
        fn shopify_function_input_read_utf8_str(src: usize, out: *mut u8, len: usize);
        fn shopify_function_input_get_obj_prop(scope: Val, ptr: *const u8, len: usize) -> Val;
        fn shopify_function_input_get_at_index(scope: Val, index: usize) -> Val;
        fn shopify_function_input_get_obj_key_at_index(scope: Val, index: usize) -> Val;
    }

    // SAFETY (all below): the imports take and return plain integers; the provider checks
    // every handle it is given and answers a bad one with an error handle, never a trap.
    pub fn input_get() -> Val {
        // SAFETY: see above.
        unsafe { shopify_function_input_get() }
    }
    pub fn val_len(scope: Val) -> usize {
        // SAFETY: see above.
        unsafe { shopify_function_input_get_val_len(scope) }
    }
    pub fn obj_prop(scope: Val, name: &str) -> Val {
        // SAFETY: see above; `name` is valid for `name.len()` bytes during the call.
        unsafe { shopify_function_input_get_obj_prop(scope, name.as_ptr(), name.len()) }
    }
    pub fn at_index(scope: Val, index: usize) -> Val {
        // SAFETY: see above.
        unsafe { shopify_function_input_get_at_index(scope, index) }
    }
    pub fn key_at_index(scope: Val, index: usize) -> Val {
        // SAFETY: see above.
        unsafe { shopify_function_input_get_obj_key_at_index(scope, index) }
    }
    /// The `len` bytes of the string at `src` (a string handle's pointer and its length).
    pub fn read_str(src: usize, len: usize) -> Vec<u8> {
        // Not zeroed first: the provider writes every byte.
        let mut bytes = Vec::with_capacity(len);
        // SAFETY: `bytes` has room for `len` bytes; the provider copies the string's `len`
        // bytes (the length it gave for this handle) into it, so they are all initialised
        // when the length is set.
        unsafe {
            shopify_function_input_read_utf8_str(src, bytes.as_mut_ptr(), len);
            bytes.set_len(len);
        }
        bytes
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod provider {
    use super::Val;
    use shopify_function_provider::read;

    pub fn input_get() -> Val {
        read::shopify_function_input_get()
    }
    pub fn val_len(scope: Val) -> usize {
        read::shopify_function_input_get_val_len(scope)
    }
    pub fn obj_prop(scope: Val, name: &str) -> Val {
        read::shopify_function_input_get_obj_prop(scope, name.as_ptr() as usize, name.len())
    }
    pub fn at_index(scope: Val, index: usize) -> Val {
        read::shopify_function_input_get_at_index(scope, index)
    }
    pub fn key_at_index(scope: Val, index: usize) -> Val {
        read::shopify_function_input_get_obj_key_at_index(scope, index)
    }
    pub fn read_str(src: usize, len: usize) -> Vec<u8> {
        let addr = read::shopify_function_input_get_utf8_str_addr(src);
        if addr == 0 {
            return Vec::new();
        }
        // SAFETY: the provider gives the address of the string's `len` bytes (the length it
        // gave for this handle) inside the input it holds, which lives for the whole run.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec()
    }
}

/// An input value: a provider handle.
///
/// The type tests, `get_at_index` and `as_string` are inlined: the crate is built for size,
/// where they would stay calls (together 200 lines × 50 rules 1,191,564 → 1,169,824
/// instructions for 862 bytes of module).
#[derive(Clone, Copy)]
pub struct Value(Val);

impl Value {
    /// The input's root.
    pub fn input() -> Value {
        Value(provider::input_get())
    }

    /// The tag, or [`NUMBER`].
    #[inline(always)]
    fn tag(self) -> u32 {
        if self.0 & NAN_MASK != NAN_MASK {
            return NUMBER;
        }
        // Four bits: the cast keeps them all.
        ((self.0 >> VALUE_SIZE) & ((1 << TAG_SIZE) - 1)) as u32
    }

    /// The length field (which may be [`MAX_LENGTH`]).
    #[inline(always)]
    fn short_len(self) -> usize {
        // At most 46 bits (14 on Wasm): a `usize` holds them on either width.
        ((self.0 >> POINTER_SIZE) as usize) & MAX_LENGTH
    }

    /// The pointer field.
    #[inline(always)]
    fn pointer(self) -> usize {
        // The low `usize::BITS` bits: truncation is the point.
        self.0 as usize
    }

    /// The length of a string, list or object: from the handle, or from the provider when
    /// too long for it (`None` when the provider cannot tell).
    #[inline(always)]
    fn len(self) -> Option<usize> {
        match self.short_len() {
            MAX_LENGTH => Some(provider::val_len(self.0)).filter(|&len| len != usize::MAX),
            len => Some(len),
        }
    }

    #[inline(always)]
    pub fn is_null(&self) -> bool {
        self.tag() == TAG_NULL
    }

    #[inline(always)]
    pub fn as_bool(&self) -> Option<bool> {
        (self.tag() == TAG_BOOL).then(|| self.pointer() != 0)
    }

    #[inline(always)]
    pub fn as_number(&self) -> Option<f64> {
        // The `f64`'s 64 bits: truncation is the point.
        (self.tag() == NUMBER).then(|| f64::from_bits((self.0 >> F64_OFFSET) as u64))
    }

    #[inline(always)]
    pub fn as_string(&self) -> Option<String> {
        if self.tag() != TAG_STRING {
            return None;
        }
        let bytes = provider::read_str(self.pointer(), self.len()?);
        // SAFETY: the provider's strings are the input JSON's (UTF-8 by RFC 8259, which
        // Shopify's runner encodes to MessagePack strings), as `wasm_api::Value::as_string`
        // also assumes. Checking would scan every string again: +20,000 instructions for a
        // 10 kB policy metafield.
        Some(unsafe { String::from_utf8_unchecked(bytes) })
    }

    #[inline(always)]
    pub fn is_obj(&self) -> bool {
        self.tag() == TAG_OBJECT
    }

    #[inline(always)]
    pub fn is_array(&self) -> bool {
        self.tag() == TAG_ARRAY
    }

    /// The length of a value tagged `tag`; `None` for any other value.
    #[inline(always)]
    fn len_if(self, tag: u32) -> Option<usize> {
        if self.tag() == tag { self.len() } else { None }
    }

    #[inline(always)]
    pub fn array_len(&self) -> Option<usize> {
        self.len_if(TAG_ARRAY)
    }

    #[inline(always)]
    pub fn obj_len(&self) -> Option<usize> {
        self.len_if(TAG_OBJECT)
    }

    pub fn get_obj_prop(&self, name: &str) -> Value {
        Value(provider::obj_prop(self.0, name))
    }

    #[inline(always)]
    pub fn get_at_index(&self, index: usize) -> Value {
        Value(provider::at_index(self.0, index))
    }

    /// The length of a string; `None` for any other value.
    #[inline(always)]
    pub fn str_len(&self) -> Option<usize> {
        self.len_if(TAG_STRING)
    }

    /// The key at `index` of an object, as a string value (an error value when there is none).
    pub fn key_at_index(&self, index: usize) -> Value {
        Value(provider::key_at_index(self.0, index))
    }

    pub fn get_obj_key_at_index(&self, index: usize) -> Option<String> {
        if self.tag() != TAG_OBJECT {
            return None;
        }
        Value(provider::key_at_index(self.0, index)).as_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopify_function_wasm_api_core::read::{NanBox, ValueRef};

    fn decoded(nan_box: NanBox) -> Value {
        Value(nan_box.to_bits())
    }

    #[test]
    fn the_layout_is_that_of_the_providers_nan_box() {
        assert_eq!(MAX_LENGTH, NanBox::MAX_VALUE_LENGTH);
        for len in [0, 1, 7, 300, MAX_LENGTH - 1] {
            let object = decoded(NanBox::obj(0x1234_5678, len));
            assert!(object.is_obj() && !object.is_array() && !object.is_null());
            assert_eq!(object.short_len(), len);
            assert_eq!(object.pointer(), 0x1234_5678);
            assert_eq!(decoded(NanBox::array(64, len)).short_len(), len);
            let string = decoded(NanBox::string(8, len));
            assert_eq!((string.tag(), string.short_len()), (TAG_STRING, len));
        }
        assert_eq!(decoded(NanBox::obj(8, usize::MAX)).short_len(), MAX_LENGTH);
        assert_eq!(decoded(NanBox::bool(true)).as_bool(), Some(true));
        assert_eq!(decoded(NanBox::bool(false)).as_bool(), Some(false));
        assert!(decoded(NanBox::null()).is_null());
        for n in [
            0.0,
            -0.0,
            1.5,
            -3.0,
            9.0e15,
            f64::INFINITY,
            f64::MIN_POSITIVE,
        ] {
            let number = decoded(NanBox::number(n));
            assert_eq!(number.as_number().map(f64::to_bits), Some(n.to_bits()));
            assert!(number.as_bool().is_none() && !number.is_null() && !number.is_obj());
        }
        let error = NanBox::error(shopify_function_wasm_api_core::read::ErrorCode::NotAnObject);
        assert!(matches!(error.try_decode(), Ok(ValueRef::Error(_))));
        let error = decoded(error);
        assert!(error.as_bool().is_none() && !error.is_null() && error.as_number().is_none());
        assert!(!error.is_obj() && !error.is_array() && error.obj_len().is_none());
    }
}
