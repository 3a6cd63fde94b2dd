//! The storage of a versioned policy document (the network policy, the level policy): each is a
//! table of versions, drafts until one is activated, the active one retired when the next is.
//! Both tables have the same columns, so one macro writes both modules' functions rather than two
//! copies drifting apart.

/// Defines `$row` and `active`, `by_version`, `list`, `insert_draft`, `activate` over `$table`.
/// `$noun` names the policy in error messages ("level policy version 3 …").
macro_rules! policy_store {
    ($table:ident, $row:ident, $noun:literal) => {
        use chrono::NaiveDateTime;
        use diesel::prelude::*;

        use crate::domain::network::PolicyStatus;
        use crate::error::{Error, Result};
        use crate::store::DbConnection;
        use crate::store::schema::$table;
        use crate::store::users::now;
        use crate::typed::Stored;

        #[derive(Debug, Clone, Queryable, Selectable)]
        #[diesel(table_name = $table)]
        pub struct $row {
            pub id: i64,
            pub version: i64,
            pub name: String,
            pub document: String,
            pub status: PolicyStatus,
            pub created_at: NaiveDateTime,
            pub created_by: Option<i64>,
            pub activated_at: Option<NaiveDateTime>,
            pub activated_by: Option<i64>,
        }

        pub fn active(conn: &mut DbConnection) -> Result<Option<$row>> {
            Ok($table::table
                .filter($table::status.eq(Stored(PolicyStatus::Active)))
                .select($row::as_select())
                .load(conn)?
                .pop())
        }

        pub fn by_version(conn: &mut DbConnection, version: i64) -> Result<Option<$row>> {
            Ok($table::table
                .filter($table::version.eq(version))
                .select($row::as_select())
                .load(conn)?
                .pop())
        }

        /// Newest version first.
        pub fn list(conn: &mut DbConnection) -> Result<Vec<$row>> {
            Ok($table::table
                .order($table::version.desc())
                .select($row::as_select())
                .load(conn)?)
        }

        /// Stores a validated document as a draft; its version must be new.
        pub fn insert_draft(
            conn: &mut DbConnection,
            version: i64,
            name: &str,
            document: &str,
            by: Option<i64>,
        ) -> Result<$row> {
            if by_version(conn, version)?.is_some() {
                return Err(Error::conflict(
                    "policy_version_exists",
                    format!(
                        concat!(
                            $noun,
                            " version {version} exists already: give the new document a higher \
                         `version`"
                        ),
                        version = version
                    ),
                ));
            }
            diesel::insert_into($table::table)
                .values((
                    $table::version.eq(version),
                    $table::name.eq(name),
                    $table::document.eq(document),
                    $table::status.eq(Stored(PolicyStatus::Draft)),
                    $table::created_at.eq(now()),
                    $table::created_by.eq(by),
                ))
                .execute(conn)?;
            by_version(conn, version)?
                .ok_or_else(|| Error::Internal(concat!($noun, " draft not stored").into()))
        }

        /// Retires the active version and activates `version` (a draft), in the caller's
        /// transaction. A version that is not a draft is refused before anything is written, so
        /// the active one stays active even outside a transaction.
        pub fn activate(conn: &mut DbConnection, version: i64, by: Option<i64>) -> Result<()> {
            if by_version(conn, version)?.is_none_or(|row| row.status != PolicyStatus::Draft) {
                return Err(Error::conflict(
                    "policy_version_not_draft",
                    format!(
                        concat!(
                            $noun,
                            " version {version} is not a draft: only a draft can be activated"
                        ),
                        version = version
                    ),
                ));
            }
            diesel::update($table::table.filter($table::status.eq(Stored(PolicyStatus::Active))))
                .set($table::status.eq(Stored(PolicyStatus::Retired)))
                .execute(conn)?;
            diesel::update($table::table.filter($table::version.eq(version)))
                .set((
                    $table::status.eq(Stored(PolicyStatus::Active)),
                    $table::activated_at.eq(Some(now())),
                    $table::activated_by.eq(by),
                ))
                .execute(conn)?;
            Ok(())
        }
    };
}

pub(crate) use policy_store;
