//! Money at the edge: the mirror's formatting (one place for every crate).

pub use fluxstore_mirror::money::format;
