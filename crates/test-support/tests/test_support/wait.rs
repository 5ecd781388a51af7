//! Bounded waiting: it returns as soon as the condition holds and turns a hang into a failure
//! that names what never happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fluxstore_test_support::{
    GUARD, eventually, eventually_async, eventually_blocking, wait_until, wait_until_blocking,
};

#[tokio::test]
async fn eventually_returns_once_another_task_made_it_true() {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        set.store(true, Ordering::SeqCst);
    });
    let started = Instant::now();
    eventually("the flag", GUARD, || flag.load(Ordering::SeqCst)).await;
    assert!(started.elapsed() < GUARD);

    let probe = flag.clone();
    eventually_async("the flag, read asynchronously", GUARD, || {
        let probe = probe.clone();
        async move { probe.load(Ordering::SeqCst) }
    })
    .await;
}

#[tokio::test]
async fn a_condition_that_never_holds_gives_up_at_the_guard() {
    let started = Instant::now();
    assert!(!wait_until(Duration::from_millis(100), || false).await);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(!wait_until_blocking(Duration::from_millis(50), || false));
}

#[test]
#[should_panic(expected = "waiting for the thing that never happens")]
fn eventually_names_what_it_waited_for() {
    eventually_blocking(
        "the thing that never happens",
        Duration::from_millis(50),
        || false,
    );
}
