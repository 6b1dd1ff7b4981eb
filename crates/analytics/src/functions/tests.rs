//! Unit tests of the functions.
