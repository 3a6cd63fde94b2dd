//! The level engine's use cases (issue 6, DOMAIN §9): the level policy's versions and what
//! activating one does (re-level or quotas), the assessment run (daily from the network job, or
//! on demand), the what-if of a draft, the activity HQ records, and applications for a level
//! with their approval. Each loads what a rule of `domain::levels` needs through
//! `store::levels`, applies it and saves the outcome; who may act is checked here, on the
//! network's [`crate::network::Actor`].

pub mod activity;
pub mod application_lists;
pub mod applications;
pub mod apply;
pub mod assess;
pub mod policy;
pub mod population;
pub mod review;
pub mod whatif;
