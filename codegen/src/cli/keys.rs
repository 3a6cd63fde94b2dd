//! `keys init`: create a master key file.

use std::path::Path;
use std::process::ExitCode;

use codegen::keys::MasterKey;

/// Creates the key file and prints its key id.
pub fn init(out: &Path) -> anyhow::Result<ExitCode> {
    let key = MasterKey::generate_to(out)?;
    println!("created {} (key id {})", out.display(), key.key_id());
    eprintln!("keep this file secret and backed up: every code of every batch depends on it");
    Ok(ExitCode::SUCCESS)
}
