//! Both versioned policy stores (network and level), on both databases: drafts, one active at a
//! time, and the refusals that change nothing.

use chainmark_server::store::Error;
use chainmark_server::store::levels::policies as level;
use chainmark_server::store::network::policies as network;

use crate::common::{TestDb, backends};

/// The store functions of one policy table, as plain function pointers so that one test body
/// covers both.
struct Store<R> {
    noun: &'static str,
    insert_draft: fn(
        &mut chainmark_server::store::DbConnection,
        i64,
        &str,
        &str,
        Option<i64>,
    ) -> chainmark_server::store::Result<R>,
    activate: fn(
        &mut chainmark_server::store::DbConnection,
        i64,
        Option<i64>,
    ) -> chainmark_server::store::Result<()>,
    statuses: fn(&mut chainmark_server::store::DbConnection) -> Vec<(i64, String)>,
}

fn check<R>(db: &TestDb, store: &Store<R>) {
    let mut c = db.conn();
    // Versions above any a migration or preset may have stored.
    (store.insert_draft)(&mut c, 901, "first", "doc 1", None).expect("draft 901");
    (store.insert_draft)(&mut c, 902, "second", "doc 2", None).expect("draft 902");
    let before = (store.statuses)(&mut c);

    match (store.insert_draft)(&mut c, 901, "again", "doc", None) {
        Err(Error::Conflict {
            code: "policy_version_exists",
            message: m,
        }) => assert!(
            m.starts_with(&format!("{} version 901 exists already", store.noun)),
            "{m}"
        ),
        Err(e) => panic!("{}: {e}", store.noun),
        Ok(_) => panic!("{}: a second draft 901 was stored", store.noun),
    }
    assert!(matches!(
        (store.activate)(&mut c, 999, None),
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        (store.statuses)(&mut c),
        before,
        "{}: refusals change nothing",
        store.noun
    );

    (store.activate)(&mut c, 901, None).expect("activate 901");
    (store.activate)(&mut c, 902, None).expect("activate 902");
    let after = (store.statuses)(&mut c);
    let status = |v: i64| after.iter().find(|(n, _)| *n == v).map(|(_, s)| s.as_str());
    assert_eq!(status(901), Some("retired"), "{}", store.noun);
    assert_eq!(status(902), Some("active"), "{}", store.noun);
    assert_eq!(after.iter().filter(|(_, s)| s == "active").count(), 1);
    // No transaction here: the refusal must leave the active version active by itself.
    match (store.activate)(&mut c, 901, None) {
        Err(Error::Conflict {
            code: "policy_version_not_draft",
            message: m,
        }) => assert!(m.contains("is not a draft"), "{m}"),
        other => panic!(
            "{}: a retired version activated again: {other:?}",
            store.noun
        ),
    }
    assert_eq!(
        (store.statuses)(&mut c),
        after,
        "{}: the refusal changed nothing",
        store.noun
    );
}

#[test]
fn both_policy_stores_keep_one_active_version_and_refuse_what_they_must() {
    for backend in backends() {
        let db = TestDb::new(backend);
        check(
            &db,
            &Store {
                noun: "policy",
                insert_draft: network::insert_draft,
                activate: network::activate,
                statuses: |c| {
                    network::list(c)
                        .expect("list")
                        .into_iter()
                        .map(|r| (r.version, r.status.as_str().to_string()))
                        .collect()
                },
            },
        );
        check(
            &db,
            &Store {
                noun: "level policy",
                insert_draft: level::insert_draft,
                activate: level::activate,
                statuses: |c| {
                    level::list(c)
                        .expect("list")
                        .into_iter()
                        .map(|r| (r.version, r.status.as_str().to_string()))
                        .collect()
                },
            },
        );
    }
}
