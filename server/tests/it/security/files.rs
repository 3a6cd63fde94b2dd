//! Item 5: the database (with its WAL) and a batch's files are private to their owner, whatever
//! the umask.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chainmark_server::domain::Role;
use chainmark_server::store::Db;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn a_new_sqlite_database_and_its_wal_are_0600() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("chainmark.db");
    let db = Db::open(&format!("sqlite://{}", file.display()), 2).expect("open");
    db.migrate().expect("migrate");
    db.write(|c| {
        chainmark_server::accounts::create_user(c, "admin", "admin", Role::HqAdmin, None)
            .map(|_| ())
    })
    .await
    .expect("a write, so the WAL exists");
    assert_eq!(mode(&file), 0o600, "chainmark.db");
    let wal = dir.path().join("chainmark.db-wal");
    assert!(wal.exists(), "WAL mode");
    assert_eq!(mode(&wal), 0o600, "chainmark.db-wal");
    let shm = dir.path().join("chainmark.db-shm");
    if shm.exists() {
        assert_eq!(mode(&shm), 0o600, "chainmark.db-shm");
    }
}

#[test]
fn a_batch_folder_is_0700_and_its_files_0600() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = codegen::keys::MasterKey::generate_to(&dir.path().join("master.key")).expect("key");
    let out = dir.path().join("batch");
    let spec = codegen::batch::BatchSpec::new("TEA-1", 3, crate::common::BASE_URL, &out);
    codegen::batch::write_batch(&spec, &key, &mut |_| {}).expect("batch");
    assert_eq!(mode(&out), 0o700, "the batch folder");
    for name in ["print.csv", "import.jsonl", "batch.json"] {
        assert_eq!(mode(&out.join(name)), 0o600, "{name}");
    }
}
