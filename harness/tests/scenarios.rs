//! Every scenario the repository ships parses and validates: a user's first command must not
//! fail on our own files.

use std::path::Path;

#[test]
fn shipped_scenarios_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut checked = 0;
    for dir in ["scenarios", "benches/pacing"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") {
                if let Err(e) = harness::scenario::load(&path) {
                    panic!("{e}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "found only {checked} scenario files");
}
