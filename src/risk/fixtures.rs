//! Hand-built datasets for the risk tests.
