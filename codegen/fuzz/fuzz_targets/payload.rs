//! Fuzzes `payload::parse` and `inspect` (with and without a key) on arbitrary input: they must
//! never panic, and whatever parses must inspect consistently.
#![no_main]

use codegen::inspect::inspect;
use codegen::keys::MasterKey;
use codegen::payload::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let key = MasterKey::from_bytes([7; 32]);
    let parsed = parse(s);
    let with_key = inspect(s, Some(&key));
    let without_key = inspect(s, None);
    // Parsing decides the payload; only the tag check depends on the key.
    assert_eq!(parsed.is_ok(), with_key.payload.is_some());
    assert_eq!(with_key.payload, without_key.payload);
    if parsed.is_err() {
        assert!(!with_key.valid && with_key.reason.is_some());
    }
    if let Ok(p) = parsed {
        // A parsed serial prints back in a form that parses to the same serial.
        if let Some(serial) = p.serial() {
            assert_eq!(parse(serial.as_str()).ok().and_then(|q| q.serial().copied()), Some(*serial));
        }
    }
});
