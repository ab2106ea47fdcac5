//! Command-line parsing and the commands.
