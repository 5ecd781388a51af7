//! Bounded, expiring, take-once storage for sign-ins in progress and one-time codes.
//!
//! Invariant: an entry is handed out at most once (`take` removes it whether or not it is
//! still fresh), nothing older than its TTL is ever handed out, and the map never holds more
//! than `max` entries — a flood of abandoned sign-ins is refused, not remembered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Bounded<V> {
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

pub(crate) enum Taken<V> {
    Fresh(V),
    Expired,
    Missing,
}

#[derive(Debug)]
pub(crate) struct Full;

impl<V> Bounded<V> {
    pub(crate) fn new(ttl: Duration, max: usize) -> Self {
        Bounded {
            ttl,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn insert(&self, key: String, value: V) -> Result<(), Full> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let ttl = self.ttl;
        map.retain(|_, (at, _)| at.elapsed() < ttl);
        if map.len() >= self.max {
            return Err(Full);
        }
        map.insert(key, (Instant::now(), value));
        Ok(())
    }

    pub(crate) fn take(&self, key: &str) -> Taken<V> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match map.remove(key) {
            Some((at, v)) if at.elapsed() < self.ttl => Taken::Fresh(v),
            Some(_) => Taken::Expired,
            None => Taken::Missing,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_once_and_capacity_is_enforced() {
        let store = Bounded::new(Duration::from_secs(60), 2);
        store.insert("a".into(), 1).unwrap();
        store.insert("b".into(), 2).unwrap();
        assert!(
            store.insert("c".into(), 3).is_err(),
            "a third entry exceeds the bound"
        );
        assert!(matches!(store.take("a"), Taken::Fresh(1)));
        assert!(matches!(store.take("a"), Taken::Missing));
        store.insert("c".into(), 3).unwrap();
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn expired_entries_are_never_handed_out_and_are_swept() {
        let store = Bounded::new(Duration::ZERO, 1);
        store.insert("a".into(), 1).unwrap();
        assert!(matches!(store.take("a"), Taken::Expired));
        store.insert("b".into(), 2).unwrap();
        // The expired "b" is swept, so the bound of one still admits "c".
        store.insert("c".into(), 3).unwrap();
        assert_eq!(store.len(), 1);
    }
}
