//! Command bodies driven without a window: a real mirror file in a temp dir, the real relay
//! on 127.0.0.1, real HTTP deliveries; the only stand-in is the window itself (a recorder of
//! the events the shell would emit).
mod support;

mod connect_flow;
mod contract;
mod disputes;
mod exports;
mod fresh_store;
mod hub_follow;
mod keyring;
mod notices;
mod relay_events;
mod sample_store;
mod upgrade;
