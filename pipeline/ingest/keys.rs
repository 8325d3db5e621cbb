//! The id sets the duplicate and referential checks need — the only state of
//! ingest that grows with a table. An id is kept as a 128-bit hash (16 bytes
//! whatever its length; a false match needs ~10^19 ids), with the line where it
//! was first seen and whether that row was loaded.

use std::collections::HashMap;

use xxhash_rust::xxh3::xxh3_128;

#[derive(Debug, Clone, Copy)]
struct Seen {
    first_line: u64,
    loaded: bool,
}

#[derive(Debug, Default)]
pub struct KeyIndex {
    seen: HashMap<u128, Seen>,
}

/// Hash of a key made of one or more text parts.
pub fn key_hash(parts: &[&str]) -> u128 {
    match parts {
        [one] => xxh3_128(one.as_bytes()),
        _ => xxh3_128(parts.join("\u{1f}").as_bytes()),
    }
}

impl KeyIndex {
    /// Records the first sighting of `key`; returns the line of the earlier
    /// sighting when the key was seen before (the row is then a duplicate).
    pub fn first_seen(&mut self, key: u128, line: u64) -> Result<(), u64> {
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Err(e.get().first_line),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Seen { first_line: line, loaded: false });
                Ok(())
            }
        }
    }

    pub fn mark_loaded(&mut self, key: u128) {
        if let Some(s) = self.seen.get_mut(&key) {
            s.loaded = true;
        }
    }

    pub fn unmark_loaded(&mut self, key: u128) {
        if let Some(s) = self.seen.get_mut(&key) {
            s.loaded = false;
        }
    }

    pub fn is_loaded(&self, key: u128) -> bool {
        self.seen.get(&key).is_some_and(|s| s.loaded)
    }
}
