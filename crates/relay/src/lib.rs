//! The webhook relay.
