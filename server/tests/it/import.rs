//! Importing codegen batch folders (DOMAIN §6): the happy path, every refusal leaving nothing
//! written, and the `chainmark import` command end to end. Store tests run on both backends.

use std::path::Path;

use chainmark_server::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::items::{custody_events, registry_counts};
use chainmark_server::store::schema::{items, products};
use codegen::keys::MasterKey;
use diesel::prelude::*;

use crate::common::{TestApp, backends, make_batch, write_batch_dir};

fn import(app: &TestApp, dir: &Path, create_product: bool) -> chainmark_server::Result<String> {
    let mut conn = app.conn();
    registry::import_batch(
        &mut conn,
        &app.state.keys,
        &app.state.settings.key_files,
        dir,
        ImportOptions {
            create_product,
            actor: None,
        },
        &mut |_, _| {},
    )
    .map(|i| i.batch_id)
}

/// A HQ user to import as; returns its id.
fn importer(app: &TestApp) -> i64 {
    let (user, _) = chainmark_server::accounts::create_user(
        &mut app.conn(),
        "importer",
        "Importer",
        chainmark_server::domain::Role::HqAdmin,
        None,
    )
    .expect("importer");
    user.id
}

/// (batches, cases, items, custody events, products)
fn counts(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    let mut conn = app.conn();
    let (b, c, i, e) = registry_counts(&mut conn).expect("counts");
    let p: i64 = products::table
        .count()
        .get_result(&mut *conn)
        .expect("products");
    (b, c, i, e, p)
}

#[test]
fn import_writes_batch_cases_and_items_and_records_itself_once_on_the_batch() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 10, 4);
        // No custody event per item: the import is recorded on the batch.
        assert_eq!(counts(&app), (1, 3, 10, 0, 1), "{backend:?}");
        let imported_at = {
            let mut conn = app.conn();
            chainmark_server::store::batches::find(&mut conn, &batch.batch_id)
                .expect("find")
                .expect("the batch")
                .imported_at
        };
        for row in &batch.rows {
            let history = custody_events(&mut app.conn(), &row.serial).expect("history");
            let steps: Vec<_> = history
                .iter()
                .map(|e| (e.id, e.kind, e.from_kind, e.to_kind, e.actor_user_id, e.at))
                .collect();
            assert_eq!(
                steps,
                [(
                    None,
                    CustodyEventKind::Import,
                    None,
                    Some(CustodianKind::Hq),
                    None,
                    imported_at
                )],
                "{backend:?}: {}",
                row.serial
            );
        }
        let mut conn = app.conn();
        let rows: Vec<(String, Option<String>, String, CustodianKind, ItemStatus)> = items::table
            .order(items::item_index)
            .select((
                items::serial,
                items::case_code,
                items::code_hash,
                items::custodian_kind,
                items::status,
            ))
            .load(&mut *conn)
            .expect("items");
        assert_eq!(rows.len(), 10);
        for (row, printed) in rows.iter().zip(&batch.rows) {
            assert_eq!(row.0, printed.serial);
            assert_eq!(
                row.1.as_deref(),
                Some(printed.case_code.as_str()),
                "case mapping"
            );
            let clear: String = printed
                .security_code
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert_ne!(row.2, clear, "security code stored in clear");
            assert!(!row.2.contains(&clear));
            assert_eq!(row.3.as_str(), "hq");
            assert_eq!(row.4.as_str(), "active");
        }
        // Items 0-3 in case 0, 4-7 in case 1, 8-9 in the short last case.
        assert_eq!(batch.rows[3].case_code, batch.rows[0].case_code);
        assert_ne!(batch.rows[4].case_code, batch.rows[3].case_code);
        assert_eq!(batch.rows[9].case_code, batch.rows[8].case_code);
    }
}

/// Runs `refuse` on a fresh app and checks the message names the problem and nothing was written.
fn assert_refused(
    backend: crate::common::Backend,
    dir: &Path,
    app: &TestApp,
    create: bool,
    expect: &[&str],
) {
    let before = counts(app);
    let err = import(app, dir, create).expect_err("import must be refused");
    let msg = err.to_string();
    for e in expect {
        assert!(msg.contains(e), "{backend:?}: {msg:?} should mention {e:?}");
    }
    assert_eq!(
        counts(app),
        before,
        "{backend:?}: a refused import wrote rows ({msg})"
    );
}

#[test]
fn tampered_line_is_refused_whole() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let dir = write_batch_dir(&app, "SKU-1", 20, 5);
        let path = dir.join("import.jsonl");
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Change one hex digit of an item's code hash: the tag still verifies, the seal does not.
        let line = &mut lines[5];
        let at = line.find("\"code_hash\":\"").expect("code_hash") + 13;
        let old = &line[at..at + 1];
        let new = if old == "0" { "1" } else { "0" };
        line.replace_range(at..at + 1, new);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        assert_refused(backend, &dir, &app, true, &["altered"]);
    }
}

#[test]
fn truncated_file_is_refused() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let dir = write_batch_dir(&app, "SKU-1", 20, 5);
        let path = dir.join("import.jsonl");
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, lines[..lines.len() - 1].join("\n") + "\n").expect("write");
        assert_refused(backend, &dir, &app, true, &["truncated"]);
    }
}

#[test]
fn unknown_key_id_is_refused_naming_it() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let other = MasterKey::generate_to(&app.tmp.path().join("other.key")).expect("key");
        let dir = app.tmp.path().join("foreign");
        let spec = codegen::batch::BatchSpec::new("SKU-1", 5, crate::common::BASE_URL, &dir);
        codegen::batch::write_batch(&spec, &other, &mut |_| {}).expect("write");
        let configured = app.state.settings.key_files[0].display().to_string();
        assert_refused(
            backend,
            &dir,
            &app,
            true,
            &[&other.key_id(), "configured key files", &configured],
        );
    }
}

#[test]
fn duplicate_batch_and_unknown_product_are_refused() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let dir = write_batch_dir(&app, "SKU-NEW", 6, 3);
        assert_refused(
            backend,
            &dir,
            &app,
            false,
            &["SKU-NEW", "--create-product", "create it first"],
        );
        let id = import(&app, &dir, true).expect("import");
        assert_eq!(counts(&app), (1, 2, 6, 0, 1));
        assert_refused(
            backend,
            &dir,
            &app,
            true,
            &[&format!("batch {id} is already imported")],
        );
    }
}

#[test]
fn sql_looking_sku_is_just_text() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let sku = "x'); DROP TABLE items; --";
        let batch = make_batch(&app, sku, 3, 3);
        let mut conn = app.conn();
        let stored: String = products::table
            .select(products::sku)
            .first(&mut *conn)
            .expect("sku");
        assert_eq!(stored, sku, "{backend:?}");
        assert_eq!(counts(&app).2, 3);
        assert_eq!(batch.rows.len(), 3);
    }
}

/// The real binary in a temporary folder: `user add` then `import`, configured by environment.
#[test]
fn cli_imports_a_folder_and_adds_a_user() {
    use std::process::Command;
    let tmp = tempfile::tempdir().expect("tmp");
    let key_path = tmp.path().join("master.key");
    let key = MasterKey::generate_to(&key_path).expect("key");
    let dir = tmp.path().join("b1");
    let spec = codegen::batch::BatchSpec::new("SKU-CLI", 150, "https://brand.example", &dir);
    codegen::batch::write_batch(&spec, &key, &mut |_| {}).expect("write");
    let db = format!("sqlite://{}", tmp.path().join("cm.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chainmark"))
            .args(args)
            .current_dir(tmp.path())
            .env("CHAINMARK_DATABASE_URL", &db)
            .env("CHAINMARK_KEY_FILES", &key_path)
            .env_remove("CHAINMARK_CONFIG")
            .output()
            .expect("run chainmark")
    };
    let out = run(&["user", "add", "boss", "--role", "hq_admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("one-time password"));

    let dir_s = dir.display().to_string();
    let out = run(&["import", &dir_s]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--create-product"), "{err}");

    let out = run(&["import", &dir_s, "--create-product"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("150 items in 3 cases"), "{stdout}");

    let out = run(&["import", &dir_s, "--create-product"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already imported"));
}

/// Every row an import writes, in a fixed order, as text: (items, cases, custody events).
type ImportRows = (Vec<String>, Vec<String>, Vec<String>);

/// An item row as the import writes it.
type ItemRow = (
    String,
    String,
    i64,
    Option<String>,
    String,
    ItemStatus,
    CustodianKind,
);

fn import_rows(app: &TestApp) -> ImportRows {
    use chainmark_server::store::schema::{batches, cases};
    let mut conn = app.conn();
    let items: Vec<ItemRow> = items::table
        .order(items::serial)
        .select((
            items::serial,
            items::batch_id,
            items::item_index,
            items::case_code,
            items::code_hash,
            items::status,
            items::custodian_kind,
        ))
        .load(&mut *conn)
        .expect("items");
    let counts: Vec<(Option<i64>, Option<chrono::NaiveDateTime>, i32, i32)> = items::table
        .order(items::serial)
        .select((
            items::custodian_id,
            items::released_at,
            items::verify_count,
            items::mismatch_count,
        ))
        .load(&mut *conn)
        .expect("item counts");
    let cases: Vec<(String, String, i64, Option<String>, bool)> = cases::table
        .order(cases::code)
        .select((
            cases::code,
            cases::batch_id,
            cases::case_index,
            cases::sscc,
            cases::opened,
        ))
        .load(&mut *conn)
        .expect("cases");
    // Every item's custody history as the readers see it, starting from its batch's import.
    let (imported_at, imported_by): (chrono::NaiveDateTime, Option<i64>) = batches::table
        .select((batches::imported_at, batches::imported_by))
        .first(&mut *conn)
        .expect("the batch");
    let mut events = Vec::new();
    for item in &items {
        for e in custody_events(&mut conn, &item.0).expect("history") {
            events.push((
                e.serial,
                e.id,
                e.kind,
                e.from_kind,
                e.to_kind,
                e.actor_user_id.is_some() && e.actor_user_id == imported_by,
                e.at == imported_at,
            ));
        }
    }
    (
        items
            .iter()
            .zip(&counts)
            .map(|r| format!("{r:?}"))
            .collect(),
        cases.iter().map(|r| format!("{r:?}")).collect(),
        events.iter().map(|r| format!("{r:?}")).collect(),
    )
}

/// PostgreSQL imports with `COPY` (two streamed passes), SQLite with multi-row INSERTs in one
/// pass: the same batch folder, imported into both, must give the same rows, in more than one
/// chunk of items and with a short last case.
#[test]
fn copy_import_writes_what_the_insert_import_writes() {
    let all = backends();
    if all.len() < 2 {
        return; // without PostgreSQL there is nothing to compare (CI always has it)
    }
    let apps: Vec<TestApp> = all.into_iter().map(TestApp::new).collect();
    // One batch folder, under the first app's key; the others import it with that key.
    let dir = write_batch_dir(&apps[0], "SKU-COPY", 2_345, 24);
    let mut progress_seen = Vec::new();
    for app in &apps {
        let importer = importer(app);
        let mut conn = app.conn();
        let mut last = (0, 0);
        registry::import_batch(
            &mut conn,
            &apps[0].state.keys,
            &[],
            &dir,
            ImportOptions {
                create_product: true,
                actor: Some(importer),
            },
            &mut |done, total| last = (done, total),
        )
        .expect("import");
        progress_seen.push(last);
    }
    let sqlite = import_rows(&apps[0]);
    assert_eq!(sqlite.0.len(), 2_345);
    assert_eq!(sqlite.1.len(), 98); // 97 full cases of 24 and one of 17
    assert_eq!(sqlite.2.len(), 2_345);
    assert!(
        sqlite
            .2
            .iter()
            .all(|e| e.contains("None, Import, None, Some(Hq), true, true")),
        "every item's history is its batch's import, by the importer: {:?}",
        &sqlite.2[..2]
    );
    for app in &apps[1..] {
        let other = import_rows(app);
        assert_eq!(other.0, sqlite.0, "{:?}: items differ", app.db.backend);
        assert_eq!(other.1, sqlite.1, "{:?}: cases differ", app.db.backend);
        assert_eq!(other.2, sqlite.2, "{:?}: events differ", app.db.backend);
    }
    assert!(
        progress_seen.iter().all(|p| *p == (2_345, 2_345)),
        "{progress_seen:?}"
    );
}

/// A file that changes after it was verified fails the import while its rows are streaming
/// (during the `COPY` on PostgreSQL), and nothing at all is written.
#[test]
fn file_changed_during_the_import_leaves_nothing() {
    use chainmark_server::store::import::insert_batch;
    for backend in backends() {
        let app = TestApp::new(backend);
        let dir = write_batch_dir(&app, "SKU-1", 3_000, 10);
        let product = {
            let mut conn = app.conn();
            registry::create_product(
                &mut conn,
                registry::ProductInput {
                    sku: "SKU-1".into(),
                    name: "SKU-1".into(),
                    name_en: None,
                    gtin: None,
                    case_size: Some(10),
                    image_url: None,
                },
            )
            .expect("product")
        };
        let verified =
            codegen::import::VerifiedImport::open(&dir, &app.key).expect("verify the file");
        // Change a late item's code hash after verification: the records stream reaches it
        // after 2,900 rows went out, and the seal no longer matches.
        let path = dir.join("import.jsonl");
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let n = lines.len();
        let line = &mut lines[n - 5];
        let at = line.find("\"code_hash\":\"").expect("code_hash") + 13;
        let new = if &line[at..at + 1] == "0" { "1" } else { "0" };
        line.replace_range(at..at + 1, new);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let before = counts(&app);
        let mut conn = app.conn();
        let err = insert_batch(&mut conn, &verified, product.id, None, &mut |_, _| {})
            .expect_err("a changed file must fail the import");
        drop(conn);
        assert!(
            matches!(err, chainmark_server::store::Error::Import(_)),
            "{backend:?}: {err:?}"
        );
        assert_eq!(counts(&app), before, "{backend:?}: rows were left ({err})");
    }
}

/// A registry from before the import was recorded on its batch carries its history over: the
/// migration takes who imported each batch from its items' `import` custody events and removes
/// them; reverting it writes them back, one per item. Every item's history reads the same before
/// the revert and after the migration runs again.
#[test]
fn the_migration_moves_the_import_events_onto_their_batch_and_back() {
    use chainmark_server::store::schema::{batches, custody_events};
    use chainmark_server::store::typed::Stored;
    for backend in backends() {
        let app = TestApp::new(backend);
        let importer = importer(&app);
        let dir = write_batch_dir(&app, "SKU-1", 10, 4);
        let by_hand = {
            let mut conn = app.conn();
            registry::import_batch(
                &mut conn,
                &app.state.keys,
                &[],
                &dir,
                ImportOptions {
                    create_product: true,
                    actor: Some(importer),
                },
                &mut |_, _| {},
            )
            .expect("import")
            .batch_id
        };
        let printed = crate::common::read_print_csv(&dir);
        crate::common::release(&app, &printed[2].serial, &printed[6].serial);
        let from_cli = make_batch(&app, "SKU-2", 5, 5);
        let mut serials: Vec<String> = printed.iter().map(|r| r.serial.clone()).collect();
        serials.extend(from_cli.rows.iter().map(|r| r.serial.clone()));
        let histories = |app: &TestApp| -> Vec<String> {
            let mut conn = app.conn();
            serials
                .iter()
                .flat_map(|s| custody_events(&mut conn, s).expect("history"))
                .map(|e| {
                    format!(
                        "{} {:?} {:?}>{:?} by {:?} at {}",
                        e.serial, e.kind, e.from_kind, e.to_kind, e.actor_user_id, e.at
                    )
                })
                .collect()
        };
        let before = histories(&app);
        assert_eq!(
            before.len(),
            15 + 5,
            "{backend:?}: an import each, 5 releases"
        );

        // Back to just before this migration (later ones first).
        let mut reverted = Vec::new();
        while !reverted
            .last()
            .is_some_and(|v: &String| v.starts_with("20261210000100"))
        {
            let version = app.db.db.revert_last_migration().expect("revert");
            assert!(
                version.as_str() > "20261210000000",
                "{backend:?}: reverted past it: {reverted:?}"
            );
            reverted.push(version);
        }
        // The older version reads a history in id order: each item's import comes first.
        let by_id: Vec<(String, CustodyEventKind)> = custody_events::table
            .order(custody_events::id)
            .select((custody_events::serial, custody_events::kind))
            .load(&mut *app.conn())
            .expect("events");
        for serial in &serials {
            let first = by_id.iter().find(|(s, _)| s == serial).map(|e| e.1);
            assert_eq!(
                first,
                Some(CustodyEventKind::Import),
                "{backend:?}: {serial}"
            );
        }
        assert_eq!(by_id.len(), 15 + 5, "{backend:?}");
        let imports: Vec<(String, Option<i64>)> = custody_events::table
            .filter(custody_events::kind.eq(Stored(CustodyEventKind::Import)))
            .order(custody_events::serial)
            .select((custody_events::serial, custody_events::actor_user_id))
            .load(&mut *app.conn())
            .expect("import events");
        let mut expected: Vec<(String, Option<i64>)> = printed
            .iter()
            .map(|r| (r.serial.clone(), Some(importer)))
            .chain(from_cli.rows.iter().map(|r| (r.serial.clone(), None)))
            .collect();
        expected.sort();
        assert_eq!(imports, expected, "{backend:?}: one import event per item");

        app.db.db.migrate().expect("migrate again");
        let recorded: Vec<(String, Option<i64>)> = batches::table
            .order(batches::id)
            .select((batches::id, batches::imported_by))
            .load(&mut *app.conn())
            .expect("batches");
        let mut wanted = vec![(by_hand, Some(importer)), (from_cli.batch_id.clone(), None)];
        wanted.sort();
        assert_eq!(recorded, wanted, "{backend:?}");
        assert_eq!(
            counts(&app).3,
            5,
            "{backend:?}: only the releases are custody rows"
        );
        assert_eq!(histories(&app), before, "{backend:?}");
    }
}
