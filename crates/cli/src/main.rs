//! fluxstore
fn main() {}
