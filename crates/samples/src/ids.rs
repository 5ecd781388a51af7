//! Deterministic, Stripe-looking identifiers.
//!
//! Every id is a pure function of its inputs (a story number, a kind tag, the mode), so the
//! same story always yields the same ids and two different stories never share one.

/// FNV-1a over bytes: a stable hash (std's hasher is randomised per process).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 step: a tiny deterministic generator, also used for the sample store.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base-62 characters derived from `seed`.
pub fn base62(seed: u64, len: usize) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| B62[(splitmix(&mut state) % 62) as usize] as char)
        .collect()
}

/// An id such as `pi_3Q…` for story `n`, object kind `tag` and mode.
pub fn object_id(prefix: &str, tag: &str, n: u64, livemode: bool, len: usize) -> String {
    let key = format!("{tag}/{n}/{livemode}");
    format!("{prefix}{}", base62(fnv1a(key.as_bytes()), len))
}

/// A Checkout Session id: `cs_test_a1…` or `cs_live_a1…` (66 characters like Stripe's).
pub fn session_id(n: u64, livemode: bool) -> String {
    let mode = if livemode { "live" } else { "test" };
    object_id(&format!("cs_{mode}_a1"), "cs", n, livemode, 56)
}

/// An idempotency key in UUID form.
pub fn uuid_like(seed: u64) -> String {
    let mut s = seed;
    let a = splitmix(&mut s);
    let b = splitmix(&mut s);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(session_id(7, false), session_id(7, false));
        assert_ne!(session_id(7, false), session_id(8, false));
        assert_ne!(session_id(7, false), session_id(7, true));
        assert!(session_id(7, false).starts_with("cs_test_a1"));
        assert_eq!(session_id(7, true).len(), 66);
        assert_eq!(uuid_like(3).len(), 36);
    }
}
