//! The property-fuzzing configuration every suite's `fuzz` module shares.
//!
//! Invariant: the normal test run tries `default_cases` cases per property (a few thousand,
//! seconds in all); `PROPTEST_CASES=N` (what `scripts/fuzz --cases N` sets) overrides it for
//! a campaign. A failure proptest finds is saved beside the test's source file as
//! `<file>.proptest-regressions`; committed, it replays first in every later run.

use proptest::test_runner::{Config, FileFailurePersistence};

/// Cases per property in the normal test run, unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 2_000;

/// The configuration of a fuzz property: `default_cases` cases (or `PROPTEST_CASES`), and
/// failures persisted beside the source file.
pub fn config(default_cases: u32) -> Config {
    config_scaled(default_cases, 1)
}

/// [`config`] for a property whose cases are costly (each opens a database, say): under
/// `PROPTEST_CASES=N` it runs N / `share` cases (at least one).
pub fn config_scaled(default_cases: u32, share: u32) -> Config {
    let cases = match std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
    {
        Some(n) => (n / share.max(1)).max(1),
        None => default_cases,
    };
    Config {
        cases,
        // Properties skip some generated inputs (`prop_assume!`); a long campaign skips
        // proportionally more than proptest's fixed allowance of 1,024.
        max_global_rejects: cases.max(1_024),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}
