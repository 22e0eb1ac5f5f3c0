//! Queries of the rollout workflow (owned by that workflow; see migrations/).
