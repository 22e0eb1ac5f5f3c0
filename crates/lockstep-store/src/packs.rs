//! Queries of the packs workflow (owned by that workflow; see migrations/).
