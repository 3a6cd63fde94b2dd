//! Storage of the level engine (issue 6): level policy versions, each agent's level state
//! (reached on, last decided, quotas), the changes with their reasons, runs, HQ-recorded
//! activity, applications for a level ([`applications`]), and the window sums the decisions
//! read ([`metrics`]). Only loads and saves: the rules are in `domain::levels`, applied by the
//! use cases in `crate::levels`.

pub mod applications;
pub mod changes;
pub mod metrics;
pub mod policies;
pub mod state;
