//! The applicant's own access (issue 17): it chooses its password on the application form and
//! receives a status link holding a secret, so it follows its application and signs in with its
//! own credentials — they never go only through the approver.

use super::{ApplicationInput, Outcome, apply, username_for};
use crate::auth::password::{check_new_password, hash_password};
use crate::auth::token::{hash_token, new_token};
use crate::error::Result;
use crate::store::joining::{self as store, ApplicationRow};
use crate::store::{DbConnection, agent_pages, users};

/// An application submitted with the applicant's own password, and the secret of its status link
/// (shown to the applicant once; only its hash is kept).
pub struct Applied {
    pub outcome: Outcome,
    pub token: String,
}

/// Applies through invitation `code` with the password the applicant chose.
pub fn apply_with_password(
    conn: &mut DbConnection,
    code: &str,
    input: ApplicationInput,
    password: &str,
) -> Result<Applied> {
    let username = username_for(input.phone.trim());
    check_new_password(password, &[&username, &input.name])?;
    let password_hash = hash_password(password)?;
    crate::store::in_transaction(conn, |conn| {
        let (token, token_hash) = new_token();
        // With automatic approval apply() creates the account at once, with a one-time
        // password: the chosen one replaces it here, in the same transaction.
        let mut outcome = apply(conn, code, input)?;
        agent_pages::insert_access(conn, outcome.application.id, &token_hash, &password_hash)?;
        if let Some(approved) = outcome.approved.as_mut() {
            if let Some(user) = users::find_by_username(conn, &approved.username)? {
                users::set_password(conn, user.id, &password_hash, false)?;
            }
            approved.password = String::new();
        }
        Ok(Applied { outcome, token })
    })
}

/// The application a status link's secret opens.
pub fn by_token(conn: &mut DbConnection, token: &str) -> Result<Option<ApplicationRow>> {
    let hash = hash_token(token.trim());
    match agent_pages::application_by_token(conn, &hash)? {
        Some(id) => Ok(Some(store::application(conn, id)?)),
        None => Ok(None),
    }
}
