//! Real git repositories in temp dirs with pinned author, dates and config.
