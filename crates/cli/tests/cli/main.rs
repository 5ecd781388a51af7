//! End-to-end tests of the `fluxstore` binary: real child processes, real sockets on
//! 127.0.0.1, real SQLite files.

mod crash;
mod dispute;
mod end_to_end;
mod exports;
mod follow;
mod read;
mod secrets;
mod support;
