//! The mirror's integration tests: one binary, real SQLite files in temporary directories.

mod common;

mod export;

mod accounts;
mod fuzz;
mod law;
mod notices;
mod orders;
mod projection;
mod queries;
mod summary;
