//! Imports point one way: commands → nightly → ingest, compute, publish →
//! warehouse, contract. A step that reached up (for a stop flag, an error
//! type, a command's helper) would tie the layers into one knot again.

use std::path::Path;

/// The modules below `nightly`, and what none of them may name.
const LOWER: &[&str] = &["ingest", "compute", "publish", "warehouse", "contract", "generate"];
const HIGHER: &[&str] = &["crate::nightly", "crate::commands", "crate::cli", "crate::error", "crate::Error"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_step_imports_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline");
    let mut checked = 0;
    let mut found = Vec::new();
    for module in LOWER {
        let mut files = Vec::new();
        let dir = root.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let single = root.join(format!("{module}.rs"));
        if single.is_file() {
            files.push(single);
        }
        assert!(!files.is_empty(), "module {module} not found under pipeline/");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            checked += 1;
            for (n, line) in text.lines().enumerate() {
                for higher in HIGHER {
                    if line.contains(higher) && !line.trim_start().starts_with("//") {
                        found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} files checked");
    assert!(found.is_empty(), "imports from a higher layer:\n{}", found.join("\n"));
}
