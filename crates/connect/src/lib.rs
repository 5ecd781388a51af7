//! Connect service.
