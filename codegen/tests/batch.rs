//! The batch writer: print.csv ↔ import.jsonl consistency, SSCC counter, failed runs leave
//! nothing behind, the output folder is never written over.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use codegen::batch::{BatchSpec, Record, counter_path, read_manifest, write_batch};
use codegen::gs1::{CompanyPrefix, Gtin14};
use codegen::import::VerifiedImport;
use codegen::inspect::inspect;
use codegen::keys::MasterKey;
use codegen::payload::CaseId;
use codegen::security::SecurityCode;
use codegen::serial::Serial;
use codegen::{Error, ErrorKind};

fn key(dir: &Path) -> (MasterKey, std::path::PathBuf) {
    let path = dir.join("master.key");
    (MasterKey::generate_to(&path).expect("key"), path)
}

/// Checks a written batch folder against itself and returns the case of each serial.
fn check_consistency(dir: &Path, key: &MasterKey, spec: &BatchSpec) {
    let import = VerifiedImport::open(dir, key).expect("import verifies");
    let header = import.header().clone();
    assert_eq!(header.items, spec.items);
    let batch_key = key.batch_key(&header.id);
    let mut items = HashMap::new();
    let mut cases = Vec::new();
    for record in import.records().expect("records") {
        match record.expect("record") {
            Record::Case(c) => cases.push(c),
            Record::Item(i) => {
                assert!(batch_key.verify_tag(&i.serial, i.tag.as_str()));
                assert_eq!(i.case, cases.last().expect("inside a case").id);
                items.insert(i.serial, i);
            }
        }
    }
    assert_eq!(items.len() as u64, spec.items);
    assert_eq!(cases.len() as u64, header.cases);

    let csv = fs::read_to_string(dir.join("print.csv")).expect("print.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("serial,security_code,verify_url,logistics_url,case_code")
    );
    let mut rows = 0;
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols.len(), 5, "{line}");
        let serial = Serial::parse(cols[0]).expect("serial");
        let item = items.get(&serial).expect("serial in import");
        let code = SecurityCode::parse(cols[1]).expect("security code");
        assert_eq!(cols[1], code.to_string(), "printed in groups of four");
        assert_eq!(batch_key.code_hash(&serial, &code), item.code_hash);
        assert_eq!(
            cols[2],
            format!("{}/v/{serial}?t={}", header.base_url, item.tag)
        );
        let inspected = inspect(cols[2], Some(key));
        assert!(inspected.valid && inspected.authentic == Some(true));
        let logistics = match &header.gtin {
            Some(g) => format!("{}/01/{g}/21/{serial}", header.base_url),
            None => format!("{}/s/{serial}", header.base_url),
        };
        assert_eq!(cols[3], logistics);
        assert!(inspect(cols[3], None).valid);
        assert_eq!(cols[4], item.case.as_str());
        rows += 1;
    }
    assert_eq!(rows, spec.items);
}

#[test]
fn print_csv_and_import_agree_without_gs1() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = key(tmp.path());
    let out = tmp.path().join("batch");
    let mut spec = BatchSpec::new("TEA-250G", 1000, "https://chainmark.example/", &out);
    spec.case_size = 72;
    let summary = write_batch(&spec, &key, &mut |_| {}).expect("written");
    assert_eq!(summary.header.cases, 14);
    assert_eq!(summary.header.base_url, "https://chainmark.example");
    assert_eq!(summary.sscc_range, None);
    let manifest = read_manifest(&out).expect("batch.json");
    assert_eq!(manifest.import_sha256, summary.import_sha256);
    check_consistency(&out, &key, &spec);
}

#[test]
fn print_csv_and_import_agree_with_gtin_and_sscc_and_the_counter_advances() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, key_path) = key(tmp.path());
    let prefix = CompanyPrefix::parse("4006381").expect("prefix");
    let mut spec = BatchSpec::new("TEA", 150, "https://c.example/brand", tmp.path().join("a"));
    spec.case_size = 24;
    spec.gtin = Some(Gtin14::parse("4006381333931").expect("gtin"));
    spec.company_prefix = Some(prefix.clone());
    spec.sscc_counter = Some(counter_path(&key_path));
    spec.production_date = chrono::NaiveDate::from_ymd_opt(2025, 6, 1);
    let first = write_batch(&spec, &key, &mut |_| {}).expect("written");
    assert_eq!(first.sscc_range, Some((1, 8)));
    check_consistency(&spec.out, &key, &spec);

    spec.out = tmp.path().join("b");
    let second = write_batch(&spec, &key, &mut |_| {}).expect("written");
    assert_eq!(second.sscc_range, Some((8, 15)));
    let import = VerifiedImport::open(&spec.out, &key).expect("verifies");
    let first_case = import
        .records()
        .expect("records")
        .find_map(|r| match r.expect("record") {
            Record::Case(c) => Some(c),
            Record::Item(_) => None,
        })
        .expect("a case");
    match first_case.id {
        CaseId::Sscc(s) => assert_eq!(s.as_str(), "040063810000000086"),
        CaseId::Code(c) => panic!("expected an SSCC, got {c}"),
    }

    spec.out = tmp.path().join("c");
    spec.sscc_start = Some(1000);
    let third = write_batch(&spec, &key, &mut |_| {}).expect("written");
    assert_eq!(third.sscc_range, Some((1000, 1007)));
    let counter = fs::read_to_string(counter_path(&key_path)).expect("counter");
    let counter: HashMap<String, u64> = serde_json::from_str(&counter).expect("json");
    assert_eq!(counter["4006381"], 1007);
}

#[test]
fn a_failed_run_leaves_no_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = key(tmp.path());
    let out = tmp.path().join("batch");
    let spec = BatchSpec::new("SKU", 50_000, "https://c.example", &out);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_batch(&spec, &key, &mut |p| {
            if p.done >= 16_384 {
                panic!("interrupted");
            }
        })
    }));
    assert!(result.is_err());
    assert!(!out.exists());
    let left: Vec<_> = fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("master.key")]);
}

#[test]
fn refuses_a_non_empty_folder_and_bad_specs_before_writing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = key(tmp.path());
    let out = tmp.path().join("batch");
    fs::create_dir(&out).expect("mkdir");
    // An empty folder is fine.
    write_batch(
        &BatchSpec::new("SKU", 3, "https://c.example", &out),
        &key,
        &mut |_| {},
    )
    .expect("written into the empty folder");
    let before = fs::read(out.join("import.jsonl")).expect("import");
    let again = write_batch(
        &BatchSpec::new("SKU", 3, "https://c.example", &out),
        &key,
        &mut |_| {},
    );
    assert!(matches!(again, Err(Error::OutputExists { .. })));
    assert_eq!(fs::read(out.join("import.jsonl")).expect("import"), before);

    let fresh = tmp.path().join("fresh");
    let cases: Vec<(BatchSpec, ErrorKind)> = vec![
        (
            BatchSpec::new("SKU", 0, "https://c.example", &fresh),
            ErrorKind::Input,
        ),
        (
            BatchSpec::new("", 5, "https://c.example", &fresh),
            ErrorKind::Input,
        ),
        (
            BatchSpec::new("SKU", 5, "c.example", &fresh),
            ErrorKind::Input,
        ),
        (
            BatchSpec::new("SKU", 5, "https://c.example/?a=b", &fresh),
            ErrorKind::Input,
        ),
        (
            BatchSpec::new(
                "SKU",
                5,
                "https://c.example",
                tmp.path().join("no/such/parent"),
            ),
            ErrorKind::Output,
        ),
        (
            {
                let mut s = BatchSpec::new("SKU", 5, "https://c.example", &fresh);
                s.case_size = 0;
                s
            },
            ErrorKind::Input,
        ),
        (
            {
                let mut s = BatchSpec::new("SKU", 20_000, "https://c.example", &fresh);
                s.company_prefix = Some(CompanyPrefix::parse("123456789012").expect("prefix"));
                s.case_size = 1;
                s
            },
            ErrorKind::Input,
        ),
    ];
    for (spec, kind) in cases {
        let err = write_batch(&spec, &key, &mut |_| {}).expect_err("refused");
        assert_eq!(err.kind(), kind, "{err}");
        assert!(!fresh.exists());
    }
    let mut names: Vec<_> = fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    names.sort();
    assert_eq!(names, ["batch", "master.key"]);
}
