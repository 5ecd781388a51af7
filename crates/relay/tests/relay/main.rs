//! The relay's integration tests: one binary, real sockets on 127.0.0.1, real SQLite files.

mod bad_input;
mod durability;
mod flood;
mod fuzz;
mod intake;
mod secrets;
mod signature;
mod slow_clients;
mod support;
