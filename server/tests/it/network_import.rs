//! Bringing a network in (issue 23) on SQLite and PostgreSQL: a 10,000-agent file with history
//! in one go (accounts, suppliers by the rule, balanced opening postings, past orders and
//! activity), the level engine's windows seeing the history, one bad row writing nothing and
//! naming the row, the same content twice changing nothing, frozen openings released on their
//! day, and the CLI.

use std::collections::HashMap;

use chainmark_server::auth::password;
use chainmark_server::domain::network_import::Sheet;
use chainmark_server::levels::assess;
use chainmark_server::network_import::{self, Checked, Outcome, Upload, sample};
use chainmark_server::store::DbConnection;
use chainmark_server::store::network::agents as agents_store;
use chainmark_server::store::schema::{
    agent_levels, agent_regions, agents, ledger_accounts, level_activity, opening_frozen,
    posting_lines, postings, restock_orders, users,
};
use chainmark_server::store::users::now;
use diesel::prelude::*;

use crate::common::backends;
use crate::levels::{admin, install};
use crate::network::{Net, SKU};

fn no_progress() -> impl FnMut(&'static str, u64, u64) {
    |_, _, _| {}
}

/// Row counts of every table an import writes.
fn counts(conn: &mut DbConnection) -> Vec<(&'static str, i64)> {
    vec![
        ("users", users::table.count().get_result(conn).expect("n")),
        ("agents", agents::table.count().get_result(conn).expect("n")),
        (
            "agent_regions",
            agent_regions::table.count().get_result(conn).expect("n"),
        ),
        (
            "agent_levels",
            agent_levels::table.count().get_result(conn).expect("n"),
        ),
        (
            "postings",
            postings::table.count().get_result(conn).expect("n"),
        ),
        (
            "posting_lines",
            posting_lines::table.count().get_result(conn).expect("n"),
        ),
        (
            "restock_orders",
            restock_orders::table.count().get_result(conn).expect("n"),
        ),
        (
            "level_activity",
            level_activity::table.count().get_result(conn).expect("n"),
        ),
        (
            "opening_frozen",
            opening_frozen::table.count().get_result(conn).expect("n"),
        ),
    ]
}

fn imported(outcome: Outcome) -> Box<network_import::Imported> {
    match outcome {
        Outcome::Imported(done) => done,
        other => panic!("expected an import, got {other:?}"),
    }
}

fn balance(conn: &mut DbConnection, code: &str) -> i64 {
    ledger_accounts::table
        .filter(ledger_accounts::code.eq(code))
        .select(ledger_accounts::balance_cents)
        .first(conn)
        .unwrap_or(0)
}

#[test]
fn ten_thousand_agents_with_history_import_in_one_go() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let today = now().date();
        let files = sample::network(10_000, today, SKU)
            .csv_files()
            .expect("files");
        let before = counts(&mut conn);
        let mut steps = Vec::new();
        let done = imported(
            network_import::import(&mut conn, &files, None, &mut |step, _, _| {
                if steps.last() != Some(&step) {
                    steps.push(step)
                }
            })
            .expect("import"),
        );
        assert_eq!(
            steps,
            ["agents", "balances", "orders", "activity"],
            "{backend:?}"
        );
        let i = &done.import;
        assert_eq!((i.agents, i.orders, i.activity), (10_000, 30_000, 1_000));
        assert_eq!(done.credentials.len(), 10_000);
        let after: HashMap<_, _> = counts(&mut conn).into_iter().collect();
        let before: HashMap<_, _> = before.into_iter().collect();
        assert_eq!(after["agents"] - before["agents"], 10_000);
        assert_eq!(after["users"] - before["users"], 10_000);
        assert_eq!(after["agent_levels"] - before["agent_levels"], 10_000);
        assert_eq!(after["restock_orders"], 30_000);
        assert_eq!(after["opening_frozen"], 2_500);

        // Opening balances: HQ's migration account holds the other side of every posting.
        let agent_total: i64 = ledger_accounts::table
            .filter(ledger_accounts::agent_id.is_not_null())
            .select(ledger_accounts::balance_cents)
            .load::<i64>(&mut conn)
            .expect("balances")
            .iter()
            .sum();
        assert_eq!(agent_total, i.opening_cents);
        assert_eq!(balance(&mut conn, "hq:migration"), -i.opening_cents);
        let unbalanced: i64 = posting_lines::table
            .select(posting_lines::amount_cents)
            .load::<i64>(&mut conn)
            .expect("lines")
            .iter()
            .sum();
        assert_eq!(unbalanced, 0, "every posting balances");

        // Suppliers follow the rule: recomputing them from the stored graph changes none.
        let roots: Vec<i64> = agents::table
            .filter(agents::referrer_id.is_null())
            .select(agents::id)
            .load(&mut conn)
            .expect("roots");
        let mut changed = 0;
        for r in roots {
            changed += chainmark_server::network::agents::recompute_below(&mut conn, r, false)
                .expect("recompute");
        }
        assert_eq!(
            changed, 0,
            "{backend:?}: suppliers as the rule derives them"
        );

        // An imported agent signs in with its one-time password, which it must change.
        let c = &done.credentials[1234];
        let user: (String, bool) = users::table
            .filter(users::username.eq(&c.phone))
            .select((users::password_hash, users::must_change_password))
            .first(&mut conn)
            .expect("user");
        assert!(password::verify_password(&c.password, &user.0));
        assert!(!password::verify_password("wrong password", &user.0));
        assert!(user.1, "must change it at first sign-in");
        let user_id: i64 = users::table
            .filter(users::username.eq(&c.phone))
            .select(users::id)
            .first(&mut conn)
            .expect("id");
        let agent = agents_store::by_user(&mut conn, user_id)
            .expect("agent")
            .expect("linked");
        assert!(agent.activated_at.is_some(), "active since it joined");
        assert!(agent.joined_at.date() < today);
    }
}

const LADDER: &str = r#"version = 1
name = "imported windows"
on_change = "keep"
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 10
thresholds = { personal_sales = "2000.00" }
[[levels]]
tier = "district"
[[levels.paths]]
window_days = 30
thresholds = { orders = 2 }
"#;

fn agents_file(rows: &[[&str; 8]]) -> Upload {
    let mut text =
        String::from("手机号,姓名,身份证号,等级,推荐人手机号,授权区域,加入日期,达到等级日期\n");
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    Upload {
        name: "代理.csv".into(),
        bytes: text.into_bytes(),
    }
}

#[test]
fn level_assessment_the_next_day_sees_the_imported_windows() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let today = now().date();
        let ago = |n: u64| {
            (today - chrono::Days::new(n))
                .format("%Y-%m-%d")
                .to_string()
        };
        let (a90, a5, a6, a20, a21, a40, a41) =
            (ago(90), ago(5), ago(6), ago(20), ago(21), ago(40), ago(41));
        let agents = agents_file(&[
            [
                "13800000001",
                "近期大单",
                "330106199001011231",
                "特约",
                "",
                "330106",
                &a90,
                &a90,
            ],
            [
                "13800000002",
                "两单",
                "330106199001011232",
                "特约",
                "",
                "330106",
                &a90,
                &a90,
            ],
            [
                "13800000003",
                "太早",
                "330106199001011233",
                "特约",
                "",
                "330106",
                &a90,
                &a90,
            ],
        ]);
        let orders = Upload {
            name: "orders.csv".into(),
            bytes: format!(
                "phone,order_no,paid_on,sku,quantity,amount\n\
                 13800000001,A1,{a5},{SKU},20,1200.00\n\
                 13800000001,A2,{a6},{SKU},20,900.00\n\
                 13800000002,B1,{a20},{SKU},1,60.00\n\
                 13800000002,B2,{a21},{SKU},1,60.00\n\
                 13800000003,C1,{a40},{SKU},1,60.00\n\
                 13800000003,C2,{a41},{SKU},1,60.00\n"
            )
            .into_bytes(),
        };
        imported(
            network_import::import(&mut conn, &[agents, orders], None, &mut no_progress())
                .expect("import"),
        );
        install(&net, LADDER);
        // The job assesses the complete day before; by hand, the day after the history is today.
        let run = assess::run(&mut conn, today, admin(&net), &mut |_, _| {}).expect("run");
        assert_eq!((run.agents, run.upgrades), (3, 2), "{backend:?}");
        let tier = |phone: &str, conn: &mut DbConnection| -> i32 {
            agents::table
                .inner_join(users::table.on(users::id.nullable().eq(agents::user_id)))
                .filter(users::username.eq(phone))
                .select(agents::tier_rank)
                .first(conn)
                .expect("tier")
        };
        assert_eq!(
            tier("13800000001", &mut conn),
            3,
            "2,100.00 in 10 days: 市代"
        );
        assert_eq!(
            tier("13800000002", &mut conn),
            4,
            "2 orders in 30 days: 区代"
        );
        assert_eq!(
            tier("13800000003", &mut conn),
            5,
            "its orders are older: stays 特约"
        );
    }
}

#[test]
fn a_file_with_one_bad_row_writes_nothing_and_names_the_row() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let mut s = sample::network(10_000, now().date(), SKU);
        // Row 5,001 of the agents sheet (agent 4,999): a region code that is not GB/T 2260.
        s.rows_mut(Sheet::Agents).expect("agents")[5000][5] = "999999".into();
        let files = s.csv_files().expect("files");
        let before = counts(&mut conn);
        let outcome =
            network_import::import(&mut conn, &files, None, &mut no_progress()).expect("runs");
        let Outcome::Problems(problems) = outcome else {
            panic!("{backend:?}: expected problems, got {outcome:?}");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.code(), "bad_region");
        assert_eq!(p.place.file, "agents.csv");
        assert_eq!(p.place.row, Some(5001));
        assert_eq!(
            p.render(false),
            "agents.csv, Agents, row 5001, Regions: \"999999\" is not a GB/T 2260 region code"
        );
        assert_eq!(
            p.render(true),
            "agents.csv · 代理 · 第 5001 行 · 授权区域:“999999”不是 GB/T 2260 行政区划代码"
        );
        assert_eq!(counts(&mut conn), before, "{backend:?}: nothing written");
    }
}

#[test]
fn a_failure_while_writing_leaves_nothing_behind() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let files = sample::network(300, now().date(), SKU)
            .csv_files()
            .expect("files");
        // Someone takes a phone of the file between the check and the write: the account
        // insert fails half-way, and the transaction takes everything back.
        let taken = sample::phone(250);
        let statements = match backend {
            crate::common::Backend::Sqlite => vec![format!(
                "CREATE TRIGGER block BEFORE INSERT ON users WHEN NEW.username = '{taken}' \
                 BEGIN SELECT RAISE(ABORT, 'blocked'); END"
            )],
            crate::common::Backend::Postgres => vec![
                format!(
                    "CREATE FUNCTION block() RETURNS trigger AS $$ BEGIN \
                     IF NEW.username = '{taken}' THEN RAISE EXCEPTION 'blocked'; END IF; \
                     RETURN NEW; END $$ LANGUAGE plpgsql"
                ),
                "CREATE TRIGGER block BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION block()"
                    .into(),
            ],
        };
        for sql in statements {
            diesel::sql_query(sql).execute(&mut *conn).expect("trigger");
        }
        let before = counts(&mut conn);
        let failed = network_import::import(&mut conn, &files, None, &mut no_progress());
        assert!(failed.is_err(), "{backend:?}: {failed:?}");
        assert_eq!(counts(&mut conn), before, "{backend:?}: all or nothing");
    }
}

#[test]
fn importing_the_same_content_twice_changes_nothing() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let s = sample::network(200, now().date(), SKU);
        let csv = s.csv_files().expect("csv");
        let xlsx = vec![s.xlsx_file("network.xlsx").expect("xlsx")];
        let first = imported(
            network_import::import(&mut conn, &xlsx, None, &mut no_progress()).expect("import"),
        );
        assert_eq!(first.import.agents, 200);
        let after_first = counts(&mut conn);
        for again in [&xlsx, &csv] {
            match network_import::import(&mut conn, again, None, &mut no_progress()).expect("again")
            {
                Outcome::AlreadyImported(row) => assert_eq!(row.id, first.import.id),
                other => panic!("{backend:?}: {other:?}"),
            }
            assert!(matches!(
                network_import::check(&mut conn, again).expect("check"),
                Checked::AlreadyImported(_)
            ));
        }
        assert_eq!(
            counts(&mut conn),
            after_first,
            "{backend:?}: nothing changed"
        );
    }
}

#[test]
fn frozen_openings_are_released_on_their_day_and_statements_show_openings() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let today = now().date();
        let joined = (today - chrono::Days::new(30))
            .format("%Y-%m-%d")
            .to_string();
        let agents = agents_file(&[[
            "13800000001",
            "甲",
            "330106199001011231",
            "city",
            "",
            "330100",
            &joined,
            "",
        ]]);
        let release = (today + chrono::Days::new(3))
            .format("%Y-%m-%d")
            .to_string();
        let balances = Upload {
            name: "balances.csv".into(),
            bytes: format!(
                "phone,wallet,amount,release_on\n\
                 13800000001,可提现,1200.50,\n\
                 13800000001,冻结,300.00,{release}\n\
                 13800000001,frozen,\"1,000.00\",{release}\n"
            )
            .into_bytes(),
        };
        let done = imported(
            network_import::import(&mut conn, &[agents, balances], None, &mut no_progress())
                .expect("import"),
        );
        let id: i64 = agents::table
            .select(agents::id)
            .first(&mut conn)
            .expect("id");
        let available = format!("agent:{id}:available");
        let frozen = format!("agent:{id}:frozen");
        assert_eq!(balance(&mut conn, &available), 120_050);
        assert_eq!(balance(&mut conn, &frozen), 130_000);
        assert_eq!(balance(&mut conn, "hq:migration"), -250_050);
        assert_eq!(done.import.opening_cents, 250_050);

        let day = |d: u64| {
            (today + chrono::Days::new(d))
                .and_hms_opt(1, 0, 0)
                .expect("t")
        };
        assert_eq!(
            network_import::release_due(&mut conn, day(2)).expect("tick"),
            0
        );
        assert_eq!(balance(&mut conn, &frozen), 130_000, "not yet");
        chainmark_server::network::settlement::tick(&mut conn, day(3)).expect("tick");
        assert_eq!(balance(&mut conn, &frozen), 0);
        assert_eq!(balance(&mut conn, &available), 250_050);
        assert_eq!(
            network_import::release_due(&mut conn, day(4)).expect("again"),
            0
        );
        assert_eq!(balance(&mut conn, &available), 250_050, "released once");

        let month = chainmark_server::network::statements::Month::of(now()).expect("month");
        chainmark_server::network::statements::generate(&mut conn, &month).expect("generate");
        let st = chainmark_server::network::statements::of_agent(&mut conn, id, &month)
            .expect("statement");
        assert_eq!(st.migrated_cents, 250_050, "{backend:?}: {st:?}");
        assert_eq!(st.withdrawals_cents, 0);
    }
}

#[test]
fn historical_orders_cannot_be_refunded_here() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let joined = (now().date() - chrono::Days::new(30))
            .format("%Y-%m-%d")
            .to_string();
        let paid = (now().date() - chrono::Days::new(3))
            .format("%Y-%m-%d")
            .to_string();
        let agents = agents_file(&[[
            "13800000001",
            "甲",
            "330106199001011231",
            "city",
            "",
            "330100",
            &joined,
            "",
        ]]);
        let orders = Upload {
            name: "orders.csv".into(),
            bytes: format!(
                "phone,order_no,paid_on,sku,quantity,amount\n13800000001,X1,{paid},{SKU},2,62.00\n"
            )
            .into_bytes(),
        };
        imported(
            network_import::import(&mut conn, &[agents, orders], None, &mut no_progress())
                .expect("import"),
        );
        let order: i64 = restock_orders::table
            .select(restock_orders::id)
            .first(&mut conn)
            .expect("order");
        let refused = chainmark_server::network::refunds::refund(
            &mut conn,
            order,
            &chainmark_server::network::refunds::RefundInput {
                sku: None,
                quantity: 1,
                reason: "broken".into(),
                serials: Vec::new(),
            },
            net.finance,
        );
        assert!(
            matches!(refused, Err(chainmark_server::Error::Refused { .. })),
            "{backend:?}: {refused:?}"
        );
    }
}

#[test]
fn the_cli_imports_a_workbook_and_writes_the_passwords_privately() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    let tmp = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", tmp.path().join("cm.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chainmark"))
            .args(args)
            .current_dir(tmp.path())
            .env("CHAINMARK_DATABASE_URL", &db)
            .env_remove("CHAINMARK_CONFIG")
            .env("LANG", "C")
            .output()
            .expect("run chainmark")
    };
    let help = run(&["import", "network", "--help"]);
    let help_text = String::from_utf8_lossy(&help.stdout);
    assert!(help_text.contains("referrer cycles"), "{help_text}");
    let out = run(&["import", "network", "--template", "t.xlsx", "--lang", "zh"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template = std::fs::read(tmp.path().join("t.xlsx")).expect("template");
    let tables = network_import::read::read(&Upload {
        name: "t.xlsx".into(),
        bytes: template,
    })
    .expect("the template reads back");
    assert_eq!(tables.len(), 4);

    let s = sample::network(50, now().date(), "NOPE-SKU");
    let mut bad = s.xlsx_file("net.xlsx").expect("xlsx");
    std::fs::write(tmp.path().join("net.xlsx"), &bad.bytes).expect("write");
    let out = run(&["import", "network", "net.xlsx"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("net.xlsx, Historical orders, row 2, SKU: no product has SKU \"NOPE-SKU\""),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("network-import-"))
        .collect();
    assert!(left.is_empty(), "no credentials file left behind: {left:?}");

    // Without history the same agents import.
    let mut s = s;
    s.rows_mut(Sheet::Orders).expect("orders").truncate(1);
    bad = s.xlsx_file("net2.xlsx").expect("xlsx");
    std::fs::write(tmp.path().join("net2.xlsx"), &bad.bytes).expect("write");
    let out = run(&["import", "network", "net2.xlsx", "--credentials", "pw.csv"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("50 agents"), "{stdout}");
    let meta = std::fs::metadata(tmp.path().join("pw.csv")).expect("credentials");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let creds = std::fs::read_to_string(tmp.path().join("pw.csv")).expect("read");
    assert_eq!(creds.lines().count(), 51, "a header and one line per agent");

    let out = run(&["import", "network", "net2.xlsx", "--credentials", "pw2.csv"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing changed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!tmp.path().join("pw2.csv").exists());
}
