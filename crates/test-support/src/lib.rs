//! What the test suites share: local fakes of what lives outside this machine (Stripe's API,
//! Stripe's Connect endpoints) as small HTTP servers on 127.0.0.1 that speak the documented
//! wire format, and the helpers every suite uses (the no-secret scan of a data directory,
//! bounded waiting, the clock, a mirror in a temporary directory, the fuzz properties'
//! configuration).

mod clock;
pub mod connect_fake;
pub mod fuzz;
pub mod no_secret;
pub mod owner_browser;
pub mod stripe_fake;
mod temp_mirror;
pub mod wait;

pub use clock::now;
pub use no_secret::{Leak, assert_no_secret, assert_no_secret_in};
pub use temp_mirror::{MIRROR_FILE, TempMirror, temp_mirror};
pub use wait::{
    GUARD, eventually, eventually_async, eventually_blocking, wait_until, wait_until_async,
    wait_until_blocking,
};
