//! Local fakes.

pub mod connect_fake;
