//! The groups of one window: a hash table from group key to accumulators, stored flat
//! (one vector of key values and one of accumulators, `keys_per_group` and
//! `accs_per_group` apart) so that a row of an existing group allocates nothing and
//! groups come out in order of first appearance.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::exec::aggregate::{owned, value_heap_bytes, Acc};
use crate::exec::compare::{hash_key_value, key_eq, KeyHash};
use crate::plan::AggregateCall;
use crate::value::Value;

/// The table's keys are already well-mixed 64-bit hashes: hashing them again is waste.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

const NO_NEXT: u32 = u32::MAX;

/// Bookkeeping bytes of a group besides its values (index entry, chain link).
const GROUP_OVERHEAD_BYTES: usize = 32;

pub(crate) struct GroupTable {
    keys_per_group: usize,
    accs_per_group: usize,
    /// Key hash → the first group with it; further groups of the same hash are chained.
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    next_same_hash: Vec<u32>,
    keys: Vec<Value>,
    accs: Vec<Acc>,
    /// Approximate bytes held (counted against the application's state bound).
    pub(crate) bytes: usize,
}

pub(crate) fn key_hash(seed: u64, key: &[Value]) -> u64 {
    let mut hash = KeyHash::new(seed);
    for value in key {
        hash_key_value(&mut hash, value);
    }
    hash.finish()
}

impl GroupTable {
    pub(crate) fn new(keys_per_group: usize, accs_per_group: usize) -> Self {
        GroupTable {
            keys_per_group,
            accs_per_group,
            index: HashMap::default(),
            next_same_hash: Vec::new(),
            keys: Vec::new(),
            accs: Vec::new(),
            bytes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.next_same_hash.len()
    }

    pub(crate) fn find(&self, hash: u64, key: &[Value]) -> Option<usize> {
        let mut candidate = *self.index.get(&hash)?;
        while candidate != NO_NEXT {
            let index = candidate as usize;
            let start = index * self.keys_per_group;
            let stored = self.keys.get(start..start + self.keys_per_group)?;
            if stored.iter().zip(key).all(|(a, b)| key_eq(a, b)) {
                return Some(index);
            }
            candidate = *self.next_same_hash.get(index)?;
        }
        None
    }

    /// Bytes a new group of this key would add.
    pub(crate) fn new_group_bytes(&self, key: &[Value]) -> usize {
        GROUP_OVERHEAD_BYTES
            + std::mem::size_of::<Value>() * self.keys_per_group
            + std::mem::size_of::<Acc>() * self.accs_per_group
            + key.iter().map(value_heap_bytes).sum::<usize>()
    }

    /// Adds a group (the caller checked it is absent) and returns its index.
    pub(crate) fn insert(&mut self, hash: u64, key: &[Value], calls: &[AggregateCall]) -> usize {
        let index = self.len();
        self.bytes += self.new_group_bytes(key);
        self.keys.extend(key.iter().map(owned));
        self.accs.extend(calls.iter().map(|call| Acc::new(call.function)));
        let previous = self.index.insert(hash, index as u32).unwrap_or(NO_NEXT);
        self.next_same_hash.push(previous);
        index
    }

    pub(crate) fn key(&self, index: usize) -> &[Value] {
        let start = index * self.keys_per_group;
        self.keys.get(start..start + self.keys_per_group).unwrap_or(&[])
    }

    pub(crate) fn accs(&self, index: usize) -> &[Acc] {
        let start = index * self.accs_per_group;
        self.accs.get(start..start + self.accs_per_group).unwrap_or(&[])
    }

    pub(crate) fn accs_mut(&mut self, index: usize) -> &mut [Acc] {
        let start = index * self.accs_per_group;
        self.accs.get_mut(start..start + self.accs_per_group).unwrap_or(&mut [])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_hashes_keep_groups_apart() {
        let mut table = GroupTable::new(1, 0);
        let a = [Value::Str("a".into())];
        let b = [Value::Str("b".into())];
        // Force one hash for two keys: the chain must tell them apart.
        let first = table.insert(7, &a, &[]);
        assert_eq!(table.find(7, &b), None);
        let second = table.insert(7, &b, &[]);
        assert_eq!(table.find(7, &a), Some(first));
        assert_eq!(table.find(7, &b), Some(second));
        assert_eq!(table.key(1), &b);
        assert_eq!(table.len(), 2);
    }
}
