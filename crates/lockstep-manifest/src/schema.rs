//! JSON Schemas (placeholder)
