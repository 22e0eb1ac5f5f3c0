//! Queries of the fleet workflow (owned by that workflow; see migrations/).
