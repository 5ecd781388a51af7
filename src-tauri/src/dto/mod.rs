//! Every shape that crosses IPC, each deriving `ts_rs::TS` so the UI's TypeScript types are
//! generated from these (see `bindings`).
pub mod mirror;
pub mod shell;

pub use mirror::*;
pub use shell::*;
