//! Unit tests of the audits.
