//! End-to-end tests over real 127.0.0.1 sockets: the fake of Stripe's Connect endpoints, the
//! real Connect service in front of it, the real desktop loopback client, and a "browser"
//! that is an HTTP client following redirects. One test binary with modules.

mod rig;

mod flow;
mod secrecy_of_platform_key;
mod service_rules;
