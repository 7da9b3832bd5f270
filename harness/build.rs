//! Records the compiler and the git commit otelbench is built from, so results.json says what
//! produced its figures (not whatever `rustc` or checkout is current when it runs).

use std::path::Path;
use std::process::Command;

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!(
        "cargo:rustc-env=OTELBENCH_BUILD_RUSTC={}",
        output(&rustc, &["--version"])
    );
    let commit = output("git", &["rev-parse", "HEAD"]);
    println!("cargo:rustc-env=OTELBENCH_BUILD_COMMIT={commit}");
    // Built again when the checkout moves to another commit.
    let git = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.git");
    for file in ["HEAD", "packed-refs", "refs/heads"] {
        if git.join(file).exists() {
            println!("cargo:rerun-if-changed={}", git.join(file).display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
