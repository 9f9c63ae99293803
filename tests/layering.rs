//! The layers of `src/` depend in one direction only, top to bottom:
//!
//! `main` → `cli` → `commands` → `sweep` / `calibrate` / `batch` / `output` → `sim` → `config` → `econ` / `stats`
//!
//! This test reads every `crate::…` path in `src/` (in `use` lines and inline paths) and fails
//! on a path into a higher layer, naming the file, the line and the import.

use std::path::{Path, PathBuf};

use crate::common::repo;

/// Rank of a top-level module: lower ranks sit higher. `None` for the crate root.
fn rank(module: &str) -> Option<usize> {
    Some(match module {
        "main" => 0,
        "cli" => 1,
        "commands" => 2,
        "sweep" | "calibrate" | "batch" | "output" => 3,
        "sim" => 4,
        "config" => 5,
        "econ" | "stats" => 6,
        _ => return None,
    })
}

/// The top-level module a source file belongs to (`src/sim/world.rs` → `sim`).
fn module_of(relative: &Path) -> String {
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next().unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// Top-level modules named by `crate::` paths on one line of code (comments removed);
/// handles `crate::a::b`, `crate::{a::x, b}` and nested braces.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        // `aimarket_crate::x` or `$crate::` are not paths of this crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(inner) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || !item.contains("::") {
                    item.push(c);
                }
            }
            items.push(item);
            for it in items {
                let name: String = it
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

/// Every upward import in one file's text: (line number, line, target module).
fn upward_imports(file_module: &str, text: &str) -> Vec<(usize, String, String)> {
    let Some(own) = rank(file_module) else {
        return Vec::new();
    };
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for target in crate_paths(line) {
            if rank(&target).is_some_and(|r| r < own) {
                bad.push((n + 1, line.trim().to_string(), target));
            }
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = repo("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = module_of(relative);
        assert!(
            module == "lib" || rank(&module).is_some(),
            "src/{} belongs to no layer; add its module to the layer list",
            relative.display()
        );
        let text = std::fs::read_to_string(file).expect("readable file");
        for (line_no, line, target) in upward_imports(&module, &text) {
            violations.push(format!(
                "src/{}:{line_no}: `{line}` imports from `{target}`, a layer above `{module}`",
                relative.display()
            ));
        }
    }
    assert!(
        violations.is_empty(),
        "upward imports (layers: main → cli → commands → sweep/batch/output → sim → config → econ/stats):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_catches_upward_imports_in_every_form() {
    let bad = "use crate::sim::world::Simulation;\nlet x = crate::cli::Failure::input(1);\nuse crate::{econ::choice, commands::run};\n";
    let found: Vec<String> = upward_imports("config", bad).into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(found, vec!["sim", "cli", "commands"]);
    let fine = "use crate::econ::choice;\nuse crate::config::{self, Config};\n// use crate::cli::x in a comment\nuse super::sim;";
    assert!(upward_imports("sim", fine).is_empty());
    assert_eq!(module_of(Path::new("sim/systems/labs.rs")), "sim");
    assert_eq!(module_of(Path::new("batch.rs")), "batch");
}
