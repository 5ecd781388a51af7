//! The hub's suites in one test binary (one link, one process).

mod binary;
mod bounds;
mod broker;
mod replicas;
mod rig;
mod storage;
mod webhooks;
