//! `closed_enum!`: a closed set of codes declared once, with its every-member list and its
//! stored spelling generated from the same lines.
//!
//! Invariant: `ALL` holds every variant exactly once, in declaration order, and `as_str` is
//! the spelling written to disk and across IPC; the caller's serde attributes must spell
//! the same (each use has a test that says so), so a variant can never be left out of a
//! list or spelled two ways.

macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The member spelled `text` exactly, if any.
            pub fn known(text: &str) -> Option<$name> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use closed_enum;
