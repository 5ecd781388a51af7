//! Bounded waiting for something another task, thread or process does: poll a condition
//! until it holds or a hang guard runs out. The guard is not a timing assertion; it only
//! turns a hang into a failure that names what never happened.

use std::future::Future;
use std::time::{Duration, Instant};

/// A generous hang guard for loopback work on a loaded machine.
pub const GUARD: Duration = Duration::from_secs(30);

/// Between two looks at the condition.
const POLL: Duration = Duration::from_millis(20);

/// Poll `check` until it holds; false when `within` ran out first.
pub async fn wait_until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    wait_until_async(within, move || std::future::ready(check())).await
}

/// Poll an asynchronous `check` (an HTTP probe, a read on another task) until it holds;
/// false when `within` ran out first.
pub async fn wait_until_async<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Poll `check` from a plain thread (no runtime) until it holds; false when `within` ran
/// out first.
pub fn wait_until_blocking(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Poll `check` until it holds; panics naming `what` when `within` runs out.
#[track_caller]
pub fn eventually(
    what: &str,
    within: Duration,
    check: impl FnMut() -> bool,
) -> impl Future<Output = ()> {
    let caller = std::panic::Location::caller();
    async move {
        if !wait_until(within, check).await {
            panic!("gave up after {within:?} waiting for {what} ({caller})");
        }
    }
}

/// [`eventually`] with an asynchronous condition.
#[track_caller]
pub fn eventually_async<F, Fut>(what: &str, within: Duration, check: F) -> impl Future<Output = ()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let caller = std::panic::Location::caller();
    async move {
        if !wait_until_async(within, check).await {
            panic!("gave up after {within:?} waiting for {what} ({caller})");
        }
    }
}

/// [`eventually`] from a plain thread.
#[track_caller]
pub fn eventually_blocking(what: &str, within: Duration, check: impl FnMut() -> bool) {
    if !wait_until_blocking(within, check) {
        panic!("gave up after {within:?} waiting for {what}");
    }
}
