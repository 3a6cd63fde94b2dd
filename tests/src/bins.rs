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
        // Cargo gives a test process the variables of its package (CARGO_PKG_NAME, …). Build
        // scripts such as ring's declare `rerun-if-env-changed` on some of them, and cargo
        // compares the value in its own environment: left in, they made this "no-op" rebuild
        // ring and everything above it (minutes), and the next plain build rebuild it back.
        for (name, _) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if is_per_package_variable(name) {
                cmd.env_remove(name);
            }
        }
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

/// The variables cargo sets for one package's build script or test, as opposed to the user's own
/// configuration (`CARGO_HOME`, `CARGO_NET_*`, …), which must stay.
fn is_per_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
        || name.starts_with("CARGO_MANIFEST_")
        || matches!(
            name,
            "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
        )
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
