//! The real binaries. Cargo sets `CARGO_BIN_EXE_*` only for a package's own binaries, and
//! artifact dependencies are unstable, so the first call asks the same cargo, profile and target
//! folder as this test executable for `cargo test --workspace --no-run`, which builds every
//! package's binaries, and then takes them from that folder.
//!
//! Why that command and not `cargo build --bins -p …`: under `./scripts/test` (which runs
//! `cargo test --workspace`) it resolves exactly the same features as the run that built this
//! executable, so it is a no-op that takes a second. A narrower `cargo build` resolves features
//! differently (no dev-dependencies, fewer packages to unify) and compiled a third copy of many
//! crates, which made a cold CI run several minutes longer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder holding this test run's binaries: `target/<profile>/` (the test executable itself
/// lives in `target/<profile>/deps/`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let deps = exe.parent().expect("deps folder");
    deps.parent().unwrap_or(deps).to_path_buf()
}

fn build_once() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["test", "--workspace", "--no-run", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // Build into the same target folder and profile as this test executable.
        if let Some(target) = dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(
            status.success(),
            "cargo test --workspace --no-run (building the binaries) failed"
        );
        dir
    })
}

/// The path of binary `name` (`chainmark` or `chainmark-codegen`), built if needed.
pub fn bin(name: &str) -> PathBuf {
    let path = build_once().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// Runs `name` with `args`, asserting success; returns its standard output.
pub fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(bin(name))
        .args(args)
        .output()
        .expect("run binary");
    assert!(
        out.status.success(),
        "{name} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
