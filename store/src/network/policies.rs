//! Network policy versions: the documents as written, which one is active, and who activated it
//! when.

crate::store::policy_store::policy_store!(policy_versions, PolicyRow, "policy");

/// Installs the shipped seed-004 preset as the active version 1 when no version is active yet
/// (a fresh database); [`crate::Db::migrate`] calls it, so reading the active policy never has
/// to write. Says whether it installed. Two instances migrating at once: the second one's
/// insert meets the first one's row and finds it active.
pub fn install_preset(conn: &mut DbConnection) -> Result<bool> {
    use crate::domain::network::{Policy, policy::SEED_004};
    if active(conn)?.is_some() {
        return Ok(false);
    }
    let seed = Policy::seed_004().map_err(|e| Error::Internal(e.to_string()))?;
    let installed = crate::conn::in_transaction(conn, |conn| {
        let row = insert_draft(conn, i64::from(seed.version()), seed.name(), SEED_004, None)?;
        activate(conn, row.version, None)
    });
    match installed {
        Ok(()) => {
            tracing::info!("no tier policy yet: the seed-004 preset is now version 1");
            Ok(true)
        }
        Err(Error::Conflict { .. }) if active(conn)?.is_some() => Ok(false),
        Err(e) => Err(e),
    }
}
