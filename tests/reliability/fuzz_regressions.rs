//! Inputs the `array_*` fuzz targets (in `fuzz/`) found crashing, kept as regression tests with their
//! bytes inline. Each test runs the same checks as its fuzz target.
