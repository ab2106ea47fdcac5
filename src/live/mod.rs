//! Reads the world through `aws` into a `Live` snapshot.
