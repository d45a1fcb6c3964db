//! [`TextMap`]: a map from texts to values kept as a vector sorted by key.
//!
//! A compiled policy's messages (locale → key → text) are a few locales of a few keys each;
//! the Shopify Function builds at most two of them a run. A sorted vector holds them with the
//! same order and the same JSON as a `BTreeMap`, at a fraction of its code in the Function's
//! module (the two `BTreeMap::insert`s it replaces took 5.4 kB).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Index;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::same_text;

/// Texts to values, in the order of the texts (as `String`'s `Ord` orders them); a key at
/// most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for TextMap<V> {
    fn default() -> Self {
        TextMap::new()
    }
}

impl<V> TextMap<V> {
    pub const fn new() -> Self {
        TextMap {
            entries: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`. (Compared a word at a time, among few keys: `str`'s comparison
    /// goes a byte at a time in Wasm.)
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .iter()
            .find(|(k, _)| same_text(k.as_bytes(), key.as_bytes()))
            .map(|(_, value)| value)
    }

    /// Sets `key`'s value, returning the one it replaces.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.entries.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(at) => self
                .entries
                .get_mut(at)
                .map(|(_, old)| std::mem::replace(old, value)),
            Err(at) => {
                if self.entries.capacity() == 0 {
                    // Room for a few entries at once: `Vec`'s growth path costs the Function
                    // about a hundred instructions a map.
                    self.entries = Vec::with_capacity(4);
                }
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(key, value)| (key, value))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(key, _)| key)
    }
}

impl<V> FromIterator<(String, V)> for TextMap<V> {
    /// A repeated key keeps its last value, as `BTreeMap`'s does.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(items: I) -> Self {
        let mut map = TextMap::new();
        for (key, value) in items {
            map.insert(key, value);
        }
        map
    }
}

impl<V> IntoIterator for TextMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<V, Q: AsRef<str> + ?Sized> Index<&Q> for TextMap<V> {
    type Output = V;

    /// # Panics
    /// When `key` is not in the map, as `BTreeMap`'s index does.
    #[allow(clippy::panic)]
    fn index(&self, key: &Q) -> &V {
        let key = key.as_ref();
        match self.get(key) {
            Some(value) => value,
            None => panic!("no entry for `{key}`"),
        }
    }
}

impl<V: Serialize> Serialize for TextMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for TextMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = TextMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = TextMap::new();
                while let Some((key, value)) = access.next_entry::<String, V>()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    use super::TextMap;

    /// The same entries, order, replacements and JSON as a `BTreeMap`.
    #[test]
    fn behaves_as_a_btreemap_of_strings() {
        let inserts = [
            ("nb", 1),
            ("en", 2),
            ("da", 3),
            ("fr", 4),
            ("en", 5),
            ("de-CH", 6),
            ("de", 7),
            ("", 8),
            ("é", 9),
            ("Z", 10),
            ("da", 11),
        ];
        let mut map = TextMap::new();
        let mut reference = BTreeMap::new();
        for (key, value) in inserts {
            assert_eq!(
                map.insert(key.to_string(), value),
                reference.insert(key.to_string(), value),
                "{key}"
            );
            let entries: Vec<_> = map.iter().collect();
            assert_eq!(entries, reference.iter().collect::<Vec<_>>());
        }
        assert_eq!(map.len(), reference.len());
        for key in ["nb", "en", "de", "", "é", "Z", "x", "e"] {
            assert_eq!(map.get(key), reference.get(key), "{key}");
        }
        assert_eq!(map["fr"], 4);
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, serde_json::to_string(&reference).unwrap());
        // Read back; a repeated key keeps its last value, as for `BTreeMap`.
        let back: TextMap<i32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
        let repeated = r#"{"b":1,"a":2,"b":3}"#;
        let read: TextMap<i32> = serde_json::from_str(repeated).unwrap();
        let reference: BTreeMap<String, i32> = serde_json::from_str(repeated).unwrap();
        assert_eq!(
            read.into_iter().collect::<Vec<_>>(),
            reference.into_iter().collect::<Vec<_>>()
        );
        assert!(serde_json::from_str::<TextMap<i32>>("[1]").is_err());
    }
}
