//! Level policy versions: the documents as written, which one is active, who activated it when.

crate::store::policy_store::policy_store!(level_policies, LevelPolicyRow, "level policy");
