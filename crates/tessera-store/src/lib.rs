//! Keys, store traits and storage backends for tessera.
