//! Local fakes.
