//! The two migration folders describe one schema (`store/schema.rs` is written by hand for both):
//! after migrating, SQLite and PostgreSQL have the same tables, each with the same columns, of the
//! same kind and the same nullability. A migration added to one folder only, or with a column
//! typed differently, fails here.

use std::collections::BTreeMap;

use chainmark_server::store::DbConnection;
use diesel::RunQueryDsl;
use diesel::sql_types::{Bool, Text};

use crate::common::{Backend, TestDb, backends};

/// A column as both backends can be compared on: its kind and whether it may be NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    kind: &'static str,
    nullable: bool,
}

#[derive(diesel::QueryableByName)]
struct Described {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The kind of a declared type: SQLite's declared names and PostgreSQL's `data_type` alike.
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    match t.as_str() {
        "integer" | "bigint" | "smallint" | "int" => "integer",
        "text" | "character varying" | "varchar" => "text",
        "boolean" | "bool" => "boolean",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "date" => "date",
        "double precision" | "double" | "real" | "float" => "float",
        "bytea" | "blob" => "bytes",
        _ if t.starts_with("numeric") || t.starts_with("decimal") => "decimal",
        _ if t.starts_with("varchar") => "text",
        _ => "other",
    }
}

/// Every table and column, migrations' own bookkeeping left out.
fn describe(backend: Backend) -> BTreeMap<String, BTreeMap<String, Column>> {
    let test = TestDb::new(backend);
    let mut conn = test.conn();
    let rows: Vec<Described> = match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .expect("describe SQLite"),
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .expect("describe PostgreSQL"),
    };
    let mut tables: BTreeMap<String, BTreeMap<String, Column>> = BTreeMap::new();
    for r in rows {
        tables.entry(r.table_name).or_default().insert(
            r.column_name,
            Column {
                kind: kind(&r.data_type),
                nullable: r.nullable,
            },
        );
    }
    tables
}

#[test]
fn sqlite_and_postgresql_migrations_make_the_same_schema() {
    let all = backends();
    if !all.contains(&Backend::Postgres) {
        return;
    }
    let sqlite = describe(Backend::Sqlite);
    let postgres = describe(Backend::Postgres);
    assert!(sqlite.len() > 30, "SQLite has {} tables", sqlite.len());
    let mut problems = Vec::new();
    for name in sqlite.keys().chain(postgres.keys()) {
        match (sqlite.get(name), postgres.get(name)) {
            (Some(s), Some(p)) => {
                for col in s.keys().chain(p.keys()) {
                    match (s.get(col), p.get(col)) {
                        (Some(a), Some(b)) if a == b => {}
                        // Known and harmless: the SQLite rollup is declared TEXT because its
                        // triggers fill it with `date()`, which returns text, the same
                        // 'YYYY-MM-DD' a DATE column holds on SQLite; only raw SQL reads it.
                        (Some(a), Some(b))
                            if (name.as_str(), col.as_str()) == ("diversion_flow_days", "day")
                                && (a.kind, b.kind) == ("text", "date") => {}
                        (a, b) => {
                            problems.push(format!("{name}.{col}: SQLite {a:?}, PostgreSQL {b:?}"))
                        }
                    }
                }
            }
            (s, p) => problems.push(format!(
                "table {name}: in SQLite {}, in PostgreSQL {}",
                s.is_some(),
                p.is_some()
            )),
        }
    }
    for (name, cols) in &sqlite {
        for (col, c) in cols {
            assert_ne!(
                c.kind, "other",
                "{name}.{col}: a type this test does not know"
            );
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "the schemas differ:\n{}",
        problems.join("\n")
    );
}

/// The tables and columns `store/src/schema.rs` declares, read from its `diesel::table!` blocks:
/// table → column → (kind, nullable), in the kinds of [`kind`].
fn declared() -> BTreeMap<String, BTreeMap<String, Column>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src/schema.rs");
    let text = std::fs::read_to_string(&path).expect("store/src/schema.rs");
    let mut tables: BTreeMap<String, BTreeMap<String, Column>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "diesel::table! {" {
            current = None;
            continue;
        }
        // `name (key) {` opens a table; `column -> Type,` declares a column; `}` closes.
        if let Some((name, rest)) = line.split_once(" (") {
            if rest.ends_with(") {") && !name.contains(' ') {
                current = Some(name.to_owned());
                tables.entry(name.to_owned()).or_default();
                continue;
            }
        }
        let (Some(table), Some((column, ty))) = (&current, line.split_once(" -> ")) else {
            if line == "}" {
                current = None;
            }
            continue;
        };
        let ty = ty.trim_end_matches(',');
        let (inner, nullable) = match ty.strip_prefix("Nullable<") {
            Some(inner) => (inner.trim_end_matches('>'), true),
            None => (ty, false),
        };
        let kind = match inner {
            "BigInt" | "Integer" | "SmallInt" => "integer",
            "Text" => "text",
            "Bool" => "boolean",
            "Timestamp" => "timestamp",
            "Date" => "date",
            "Double" | "Float" => "float",
            "Binary" => "bytes",
            "Numeric" => "decimal",
            // A domain enum's column (`schema::sql_types`, `store/src/typed.rs`): TEXT.
            other if other.ends_with("Text") => "text",
            other => panic!("{table}.{column}: schema.rs type {other} unknown to this test"),
        };
        tables
            .get_mut(table)
            .expect("open table")
            .insert(column.to_owned(), Column { kind, nullable });
    }
    tables
}

/// Tables only raw SQL reads and writes, left out of `schema.rs` on purpose: the daily flow
/// rollup is filled by triggers and read by one aggregate query (`store/src/diversion_views.rs`).
const RAW_SQL_ONLY: &[&str] = &["diversion_flow_days"];

/// The hand-written `store/src/schema.rs` says what the migrations make: every table it declares
/// exists with exactly its columns, each of the declared kind and nullability, on each backend;
/// and every migrated table is declared (or named in [`RAW_SQL_ONLY`]). This is the check
/// `diesel print-schema` and a diff would give, for a schema that has to describe two backends.
#[test]
fn schema_rs_matches_the_migrated_databases() {
    let declared = declared();
    assert!(
        declared.len() > 30,
        "schema.rs has {} tables",
        declared.len()
    );
    for backend in backends() {
        let migrated = describe(backend);
        let mut problems = Vec::new();
        for name in declared.keys().chain(migrated.keys()) {
            match (declared.get(name), migrated.get(name)) {
                (Some(d), Some(m)) => {
                    for col in d.keys().chain(m.keys()) {
                        match (d.get(col), m.get(col)) {
                            (Some(a), Some(b)) if a == b => {}
                            (a, b) => problems
                                .push(format!("{name}.{col}: schema.rs {a:?}, migrations {b:?}")),
                        }
                    }
                }
                (None, Some(_)) if RAW_SQL_ONLY.contains(&name.as_str()) => {}
                (d, m) => problems.push(format!(
                    "table {name}: in schema.rs {}, migrated {}",
                    d.is_some(),
                    m.is_some()
                )),
            }
        }
        problems.sort();
        problems.dedup();
        assert!(
            problems.is_empty(),
            "{backend:?}: schema.rs and the migrations differ:\n{}",
            problems.join("\n")
        );
    }
}
