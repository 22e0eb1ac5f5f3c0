//! A loopback HTTP server for registry tests.
