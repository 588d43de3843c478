//! Raw memory-mapped arrays with self-describing metadata.
