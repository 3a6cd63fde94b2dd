//! Network policy versions: the documents as written, which one is active, and who activated it
//! when.

crate::store::policy_store::policy_store!(policy_versions, PolicyRow, "policy");
