//! The id sets the duplicate and referential checks need — the only state of
//! ingest that grows with a table. An id is kept as a 128-bit hash (16 bytes
//! whatever its length; a false match needs ~10^19 ids) with one word holding
//! the line where it was first seen and whether that row was loaded: 24 bytes
//! a slot, about 100 MB for 3.4 million members.
//!
//! The table is open addressing with linear probing, and an id's home slot is
//! the top bits of its hash, so slots are in hash order. Ids are claimed a
//! block of rows at a time, sorted by hash: the block then walks the table
//! from start to end instead of jumping at random, which on a table far
//! larger than the CPU caches is most of the cost (a random probe is a cache
//! and a TLB miss; a claim in order shares pages with its neighbours).

use xxhash_rust::xxh3::xxh3_128;

/// The low bit of a slot's third word; the rest is the line of the first sighting.
const LOADED: u64 = 1;

/// A slot: `[hi, lo, seen]`, all zero when empty (an id hashing to zero is
/// stored as 1). Plain words, so a new table is zeroed memory from the system.
type Slot = [u64; 3];

fn is_empty(slot: &Slot) -> bool {
    slot[0] == 0 && slot[1] == 0
}

/// Most of the table's slots that may be used before it grows: linear probing
/// stays short below this, and the table stays near 24 B / 0.85 an id.
const MAX_LOAD: f64 = 0.85;

/// Asks the CPU to bring `slot` into its cache; a hint, never a fault.
#[inline(always)]
fn prefetch(slot: &Slot) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; any address is allowed, and
    // this one is a valid reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((slot as *const Slot).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}

#[derive(Debug, Default)]
pub struct KeyIndex {
    slots: Vec<Slot>,
    len: usize,
    /// log2 of the number of slots.
    bits: u32,
    /// Buffers of `claim_all`, kept from block to block.
    starts: Vec<u32>,
    sorted: Vec<[u64; 4]>,
}

/// Hash of a key made of one or more text parts.
pub fn key_hash(parts: &[&str]) -> u128 {
    match parts {
        [one] => xxh3_128(one.as_bytes()),
        _ => xxh3_128(parts.join("\u{1f}").as_bytes()),
    }
}

/// One row's claim of an id, in a block of rows claimed together.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub key: u128,
    pub line: u64,
    /// The row passed every other check (its id then counts as loaded).
    pub loaded: bool,
    /// The row's place in its block.
    pub row: u32,
}

fn split(key: u128) -> (u64, u64) {
    let (hi, lo) = ((key >> 64) as u64, key as u64);
    if hi == 0 && lo == 0 { (0, 1) } else { (hi, lo) }
}

impl KeyIndex {
    /// An index sized for about `ids` ids. The hint comes from the input (a
    /// file's size or footer), so it is capped and a failed reservation only
    /// means the table grows as it goes.
    pub fn with_capacity(ids: usize) -> KeyIndex {
        const MAX_HINT: usize = 200_000_000;
        let mut index = KeyIndex::default();
        index.reserve(ids.min(MAX_HINT));
        index
    }

    fn capacity(&self) -> usize {
        (self.slots.len() as f64 * MAX_LOAD) as usize
    }

    /// Room for `more` ids without growing.
    pub fn reserve(&mut self, more: usize) {
        let wanted = self.len + more;
        if wanted <= self.capacity() {
            return;
        }
        let mut bits = self.bits.max(4);
        while ((1usize << bits) as f64 * MAX_LOAD) < wanted as f64 {
            bits += 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![[0; 3]; 1usize << bits]);
        self.bits = bits;
        self.len = 0;
        // The old slots are in hash order, so this pass is in order too.
        for slot in old.into_iter().filter(|s| !is_empty(s)) {
            let at = self.probe(slot[0], slot[1]).expect_err("ids are unique");
            self.slots[at] = slot;
            self.len += 1;
        }
    }

    fn home(&self, hi: u64) -> usize {
        (hi >> (64 - self.bits)) as usize
    }

    /// `Ok(slot)` holding the id, or `Err(empty slot)` where it would go.
    fn probe(&self, hi: u64, lo: u64) -> Result<usize, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(hi);
        loop {
            let slot = &self.slots[at];
            if is_empty(slot) {
                return Err(at);
            }
            if slot[0] == hi && slot[1] == lo {
                return Ok(at);
            }
            at = (at + 1) & mask;
        }
    }

    /// Claims the ids of a block of rows, in the order of the rows: the first
    /// row of an id is the one; every later one is a duplicate. Returns the
    /// duplicates, `(row, line of the first sighting)`, by row.
    pub fn claim_all(&mut self, claims: &[Claim]) -> Vec<(u32, u64)> {
        self.reserve(claims.len());
        // In order of home slot, by its top 16 bits (a counting sort, which
        // keeps the rows of one id in row order): the claims then walk the
        // table once from start to end, which the CPU prefetches.
        let bits = self.bits.min(16);
        let mut starts = std::mem::take(&mut self.starts);
        starts.clear();
        starts.resize((1 << bits) + 1, 0);
        for claim in claims {
            starts[(split(claim.key).0 >> (64 - bits)) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        // The claims as slots-to-be, in that order: `[hi, lo, seen, row]`.
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.clear();
        sorted.resize(claims.len(), [0; 4]);
        for claim in claims {
            let (hi, lo) = split(claim.key);
            let b = (hi >> (64 - bits)) as usize;
            sorted[starts[b] as usize] = [hi, lo, claim.line << 1 | u64::from(claim.loaded), u64::from(claim.row)];
            starts[b] += 1;
        }
        // A block's claims are far apart in a large table: each is a cache
        // miss, so the slots of the claims a little ahead are fetched early.
        const AHEAD: usize = 16;
        let mut duplicates = Vec::new();
        for i in 0..sorted.len() {
            if let Some(next) = sorted.get(i + AHEAD) {
                prefetch(&self.slots[self.home(next[0])]);
            }
            let [hi, lo, seen, row] = sorted[i];
            match self.probe(hi, lo) {
                Ok(at) => duplicates.push((row as u32, self.slots[at][2] >> 1)),
                Err(at) => {
                    self.slots[at] = [hi, lo, seen];
                    self.len += 1;
                }
            }
        }
        self.starts = starts;
        self.sorted = sorted;
        duplicates.sort_unstable();
        duplicates
    }

    pub fn unmark_loaded(&mut self, key: u128) {
        let (hi, lo) = split(key);
        if let Ok(at) = self.probe(hi, lo) {
            self.slots[at][2] &= !LOADED;
        }
    }

    pub fn is_loaded(&self, key: u128) -> bool {
        let (hi, lo) = split(key);
        self.probe(hi, lo).is_ok_and(|at| self.slots[at][2] & LOADED != 0)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(key: u128, line: u64, loaded: bool, row: u32) -> Claim {
        Claim { key, line, loaded, row }
    }

    #[test]
    fn the_first_row_of_an_id_claims_it() {
        let mut index = KeyIndex::default();
        let a = key_hash(&["M1"]);
        let b = key_hash(&["M2"]);
        // In one block, the later rows of an id are duplicates of the first,
        // whatever the order the hashes sort in.
        let block = vec![claim(b, 2, true, 0), claim(a, 3, false, 1), claim(a, 4, true, 2), claim(b, 5, true, 3)];
        assert_eq!(index.claim_all(&block), vec![(2, 3), (3, 2)]);
        assert!(index.is_loaded(b));
        // The first row of `a` was rejected for another reason: its id is
        // claimed but not loaded.
        assert!(!index.is_loaded(a));
        // A later block sees the ids of the earlier ones.
        let next = vec![claim(a, 9, true, 0), claim(key_hash(&["M3"]), 10, true, 1)];
        assert_eq!(index.claim_all(&next), vec![(0, 3)]);
        assert_eq!(index.len(), 3);
        index.unmark_loaded(b);
        assert!(!index.is_loaded(b));
        assert!(!index.is_loaded(key_hash(&["M4"])));
    }

    #[test]
    fn the_table_grows_and_keeps_every_id() {
        let mut index = KeyIndex::with_capacity(10);
        let n = 100_000u64;
        for block in 0..10 {
            let claims: Vec<Claim> =
                (0..n / 10).map(|i| claim(key_hash(&[&format!("M{}", block * n / 10 + i)]), i, true, i as u32)).collect();
            assert!(index.claim_all(&claims).is_empty());
        }
        assert_eq!(index.len(), n as usize);
        assert!((0..n).all(|i| index.is_loaded(key_hash(&[&format!("M{i}")]))));
        // Ids that hash near each other or to zero still stay apart.
        let close = vec![claim(0, 1, true, 0), claim(1, 2, true, 1), claim(u128::MAX, 3, true, 2)];
        assert_eq!(index.claim_all(&close), vec![(1, 1)], "zero is stored as one");
    }
}
