//! The id sets the duplicate and referential checks need — the only state of
//! ingest that grows with a table. An id is kept as a 128-bit hash (16 bytes
//! whatever its length; a false match needs ~10^19 ids) with one word holding
//! the line where it was first seen and whether that row was loaded: 24 bytes
//! an id, about 100 MB for 3.1 million members.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_128;

/// `first_line << 1 | loaded`.
type Seen = u64;

const LOADED: u64 = 1;

/// The hash as two words: a `u128` key would be 16-byte aligned and pad every
/// entry to 32 bytes.
type Key = [u64; 2];

fn split(key: u128) -> Key {
    [key as u64, (key >> 64) as u64]
}

/// The keys are already xxh3 hashes: hashing them again with SipHash took a
/// sixth of ingest's time. The map folds their words instead.
#[derive(Debug, Default)]
struct FoldWords(u64);

impl Hasher for FoldWords {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Word by word: the key's two hash words (and a length prefix) folded.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
        }
    }
}

type Map = HashMap<Key, Seen, BuildHasherDefault<FoldWords>>;

#[derive(Debug, Default)]
pub struct KeyIndex {
    seen: Map,
}

/// Hash of a key made of one or more text parts.
pub fn key_hash(parts: &[&str]) -> u128 {
    match parts {
        [one] => xxh3_128(one.as_bytes()),
        _ => xxh3_128(parts.join("\u{1f}").as_bytes()),
    }
}

impl KeyIndex {
    /// An index sized for about `ids` ids. The hint comes from the input (a
    /// file's size or footer), so it is capped and a failed reservation only
    /// means the table grows as it goes.
    pub fn with_capacity(ids: usize) -> KeyIndex {
        const MAX_HINT: usize = 200_000_000;
        let mut seen = Map::default();
        let _ = seen.try_reserve(ids.min(MAX_HINT));
        KeyIndex { seen }
    }

    /// Records the first sighting of `key`; returns the line of the earlier
    /// sighting when the key was seen before (the row is then a duplicate).
    pub fn first_seen(&mut self, key: u128, line: u64) -> Result<(), u64> {
        match self.seen.entry(split(key)) {
            std::collections::hash_map::Entry::Occupied(e) => Err(e.get() >> 1),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line << 1);
                Ok(())
            }
        }
    }

    pub fn mark_loaded(&mut self, key: u128) {
        if let Some(s) = self.seen.get_mut(&split(key)) {
            *s |= LOADED;
        }
    }

    pub fn unmark_loaded(&mut self, key: u128) {
        if let Some(s) = self.seen.get_mut(&split(key)) {
            *s &= !LOADED;
        }
    }

    pub fn is_loaded(&self, key: u128) -> bool {
        self.seen.get(&split(key)).is_some_and(|s| s & LOADED != 0)
    }
}
