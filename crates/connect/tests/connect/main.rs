//! The Connect service's tests, one binary with modules, over real 127.0.0.1 sockets: the
//! fake of Stripe's Connect endpoints, the real Connect service in front of it (in process,
//! or as the `fluxstore-connect` binary), the real desktop loopback client, a "browser" that
//! is an HTTP client following redirects, real SQLite mirrors, and (for `connect_keyring`)
//! the real OS keyring.

mod rig;

mod binary;
mod bounds;
mod connect_keyring;
mod flow;
mod modes;
mod secrecy_of_platform_key;
mod service_rules;
