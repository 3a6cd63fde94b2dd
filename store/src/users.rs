//! User accounts and their tokens (API bearer tokens and web sessions share one table).

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{api_tokens, users};
use crate::domain::Role;
use crate::domain::role::TokenKind;
use crate::error::{Error, Result};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Stored<Role>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

/// The current time as stored: UTC, truncated to microseconds, which is what PostgreSQL keeps,
/// so a value read back equals the value written on both backends.
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Usernames: 3–64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(username: &str) -> Result<()> {
    let ok_len = (3..=64).contains(&username.chars().count());
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "username {username:?} is invalid: use 3-64 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

pub fn create_user(
    conn: &mut DbConnection,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    must_change_password: bool,
) -> Result<User> {
    check_username(username)?;
    let new = NewUser {
        username,
        display_name,
        password_hash,
        role: Stored(role),
        must_change_password,
        disabled: false,
        created_at: now(),
    };
    diesel::insert_into(users::table)
        .values(&new)
        .returning(users::all_columns)
        .get_result::<User>(conn)
        .map_err(|e| match Error::from(e) {
            Error::Duplicate(_) => {
                Error::conflict("username_taken", format!("username {username:?} is taken"))
            }
            other => other,
        })
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> Result<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> Result<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<User>> {
    Ok(users::table
        .order(users::id)
        .select(User::as_select())
        .load(conn)?)
}

/// Stores a new password hash; `one_time` marks a password the user must change at once.
pub fn set_password(
    conn: &mut DbConnection,
    user_id: i64,
    password_hash: &str,
    one_time: bool,
) -> Result<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::must_change_password.eq(one_time),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends every session and bearer token of `user_id` but `keep`; returns how many.
pub fn end_sessions(conn: &mut DbConnection, user_id: i64, keep: Option<i64>) -> Result<usize> {
    let mine = api_tokens::table.filter(api_tokens::user_id.eq(user_id));
    Ok(match keep {
        Some(id) => diesel::delete(mine.filter(api_tokens::id.ne(id))).execute(conn)?,
        None => diesel::delete(mine).execute(conn)?,
    })
}

/// What a stored token resolves to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user: User,
    pub token_id: i64,
    pub kind: TokenKind,
    pub csrf_token: Option<String>,
    pub expires_at: NaiveDateTime,
}

pub fn insert_token(
    conn: &mut DbConnection,
    user_id: i64,
    token_hash: &str,
    kind: TokenKind,
    csrf_token: Option<&str>,
    expires_at: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::kind.eq(Stored(kind)),
            api_tokens::csrf_token.eq(csrf_token),
            api_tokens::created_at.eq(now()),
            api_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live, unexpired token with this hash and its enabled owner.
pub fn find_token(conn: &mut DbConnection, token_hash: &str) -> Result<Option<TokenOwner>> {
    // Every authenticated request runs this: on the backend's own connection and without a
    // bound LIMIT, so SQLite reuses the prepared statement (see `store::per_backend`).
    let query = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::expires_at.gt(now()))
        .filter(users::disabled.eq(false))
        .select((
            users::all_columns,
            api_tokens::id,
            api_tokens::kind,
            api_tokens::csrf_token,
            api_tokens::expires_at,
        ));
    let mut rows: Vec<(User, i64, TokenKind, Option<String>, NaiveDateTime)> =
        per_backend!(conn, |c| query.load(c))?;
    Ok(rows.pop().map(
        |(user, token_id, kind, csrf_token, expires_at)| TokenOwner {
            user,
            token_id,
            kind,
            csrf_token,
            expires_at,
        },
    ))
}

pub fn delete_token(conn: &mut DbConnection, token_id: i64) -> Result<()> {
    diesel::delete(api_tokens::table.find(token_id)).execute(conn)?;
    Ok(())
}

/// Removes expired tokens and sessions; returns how many.
pub fn purge_expired_tokens(conn: &mut DbConnection) -> Result<usize> {
    Ok(diesel::delete(api_tokens::table.filter(api_tokens::expires_at.le(now()))).execute(conn)?)
}
