//! numcodecs-compatible compressors and filters for tessera.
