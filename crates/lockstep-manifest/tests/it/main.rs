//! Integration tests for lockstep-manifest.
