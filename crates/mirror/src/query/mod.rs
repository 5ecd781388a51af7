//! Read queries. Every list and count is filtered by mode (test and live never mix).

pub mod account;
pub mod lists;
pub mod orders;
pub mod summary;
