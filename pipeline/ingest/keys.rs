//! The id sets the duplicate and referential checks need — the only state of
//! ingest that grows with a table. An id is kept as 88 bits of its 128-bit
//! hash (a false match needs about 10^13 ids), with the line where it was
//! first seen and whether that row was loaded: 16 bytes a slot, about 64 MB
//! for 3.4 million members.
//!
//! The table is open addressing with linear probing, and an id's home slot
//! grows with its hash, so slots are in hash order. Ids are claimed a block
//! of rows at a time, in hash order: the block then walks the table from
//! start to end instead of jumping at random, which on a table far larger
//! than the CPU caches is most of the cost (a random probe is a cache and a
//! TLB miss; claims in order are prefetched).

use xxhash_rust::xxh3::xxh3_128;

/// A slot: `[hi, lo]`. `hi` is the hash's upper word (0 when empty; an id
/// whose word is 0 is stored as 1); `lo` holds 24 more bits of the hash
/// above the loaded flag and the line of the first sighting.
type Slot = [u64; 2];

const TAG_SHIFT: u32 = 40;
const LOADED: u64 = 1 << 39;
const LINE: u64 = LOADED - 1;

/// Most of the table's slots that may be used before it grows: linear probing
/// stays short below this.
const MAX_LOAD: f64 = 0.85;

#[derive(Debug, Default)]
pub struct KeyIndex {
    slots: Vec<Slot>,
    len: usize,
    /// Buffers of `claim_all`, kept from block to block.
    starts: Vec<u32>,
    sorted: Vec<[u64; 3]>,
}

/// Between the parts of a key of several columns, in the text that is hashed.
pub const KEY_SEPARATOR: char = '\u{1f}';

/// Hash of a key's text (the parts of a key of several columns joined by
/// [`KEY_SEPARATOR`]).
pub fn key_hash(key: &str) -> u128 {
    xxh3_128(key.as_bytes())
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

/// The slot's words for a hash: `hi`, and the tag bits of `lo`.
fn split(key: u128) -> (u64, u64) {
    let hi = ((key >> 64) as u64).max(1);
    (hi, (key as u64) >> TAG_SHIFT << TAG_SHIFT)
}

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

impl KeyIndex {
    /// An index sized for about `ids` ids. The hint comes from the input (a
    /// file's size or footer), so it is capped; the table grows past it when
    /// it must.
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
        // Any size: the home slot scales the hash, it does not mask it.
        let size = ((wanted as f64 / MAX_LOAD) as usize + 1).max(self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![[0; 2]; size]);
        self.len = 0;
        // The old slots are in hash order, so this pass is in order too.
        for slot in old.into_iter().filter(|s| s[0] != 0) {
            let at = self.probe(slot[0], slot[1]).expect_err("ids are unique");
            self.slots[at] = slot;
            self.len += 1;
        }
    }

    #[inline]
    fn home(&self, hi: u64) -> usize {
        ((u128::from(hi) * self.slots.len() as u128) >> 64) as usize
    }

    /// `Ok(slot)` holding the id, or `Err(empty slot)` where it would go.
    #[inline]
    fn probe(&self, hi: u64, tag: u64) -> Result<usize, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let mut at = self.home(hi);
        loop {
            let slot = &self.slots[at];
            if slot[0] == 0 {
                return Err(at);
            }
            if slot[0] == hi && slot[1] >> TAG_SHIFT << TAG_SHIFT == tag {
                return Ok(at);
            }
            at += 1;
            if at == self.slots.len() {
                at = 0;
            }
        }
    }

    /// Claims the ids of a block of rows, in the order of the rows: the first
    /// row of an id is the one; every later one is a duplicate. Returns the
    /// duplicates, `(row, line of the first sighting)`, by row.
    pub fn claim_all(&mut self, claims: &[Claim]) -> Vec<(u32, u64)> {
        self.reserve(claims.len());
        // In order of home slot, by the top 16 bits of the hash (a counting
        // sort, which keeps the rows of one id in row order): the claims then
        // walk the table once from start to end.
        const BITS: u32 = 16;
        let mut starts = std::mem::take(&mut self.starts);
        starts.clear();
        starts.resize((1 << BITS) + 1, 0);
        for claim in claims {
            starts[(split(claim.key).0 >> (64 - BITS)) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        // The claims as slots-to-be, in that order: `[hi, lo, row]`.
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.clear();
        sorted.resize(claims.len(), [0; 3]);
        for claim in claims {
            let (hi, tag) = split(claim.key);
            let bucket = (hi >> (64 - BITS)) as usize;
            let lo = tag | if claim.loaded { LOADED } else { 0 } | claim.line.min(LINE);
            sorted[starts[bucket] as usize] = [hi, lo, u64::from(claim.row)];
            starts[bucket] += 1;
        }
        // A block's claims are far apart in a large table: each is a cache
        // miss, so the slots of the claims a little ahead are fetched early.
        const AHEAD: usize = 16;
        let mut duplicates = Vec::new();
        for i in 0..sorted.len() {
            if let Some(next) = sorted.get(i + AHEAD) {
                prefetch(&self.slots[self.home(next[0])]);
            }
            let [hi, lo, row] = sorted[i];
            match self.probe(hi, lo >> TAG_SHIFT << TAG_SHIFT) {
                Ok(at) => duplicates.push((row as u32, self.slots[at][1] & LINE)),
                Err(at) => {
                    self.slots[at] = [hi, lo];
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
        let (hi, tag) = split(key);
        if let Ok(at) = self.probe(hi, tag) {
            self.slots[at][1] &= !LOADED;
        }
    }

    pub fn is_loaded(&self, key: u128) -> bool {
        let (hi, tag) = split(key);
        self.probe(hi, tag).is_ok_and(|at| self.slots[at][1] & LOADED != 0)
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
        let a = key_hash("M1");
        let b = key_hash("M2");
        // In one block, the later rows of an id are duplicates of the first,
        // whatever the order the hashes sort in.
        let block = vec![claim(b, 2, true, 0), claim(a, 3, false, 1), claim(a, 4, true, 2), claim(b, 5, true, 3)];
        assert_eq!(index.claim_all(&block), vec![(2, 3), (3, 2)]);
        assert!(index.is_loaded(b));
        // The first row of `a` was rejected for another reason: its id is
        // claimed but not loaded.
        assert!(!index.is_loaded(a));
        // A later block sees the ids of the earlier ones.
        let next = vec![claim(a, 9, true, 0), claim(key_hash("M3"), 10, true, 1)];
        assert_eq!(index.claim_all(&next), vec![(0, 3)]);
        assert_eq!(index.len(), 3);
        index.unmark_loaded(b);
        assert!(!index.is_loaded(b));
        assert!(!index.is_loaded(key_hash("M4")));
    }

    #[test]
    fn the_table_grows_and_keeps_every_id() {
        let mut index = KeyIndex::with_capacity(10);
        let n = 100_000u64;
        for block in 0..10 {
            let claims: Vec<Claim> =
                (0..n / 10).map(|i| claim(key_hash(&format!("M{}", block * n / 10 + i)), i, true, i as u32)).collect();
            assert!(index.claim_all(&claims).is_empty());
        }
        assert_eq!(index.len(), n as usize);
        assert!((0..n).all(|i| index.is_loaded(key_hash(&format!("M{i}")))));
        // Ids whose hashes share the upper word stay apart by the bits below.
        let word = 7u128 << 64;
        let close = vec![claim(word, 1, true, 0), claim(word | 1 << 40, 2, true, 1), claim(u128::MAX, 3, true, 2)];
        assert!(index.claim_all(&close).is_empty());
        // An upper word of zero is stored as one; bits below the tag are not kept.
        let zero = vec![claim(1 << 63, 4, true, 0), claim(1 << 64 | 1 << 63, 5, true, 1), claim(word | 1, 6, true, 2)];
        assert_eq!(index.claim_all(&zero), vec![(1, 4), (2, 1)]);
    }
}
