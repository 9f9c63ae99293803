//! Build script: embeds the shipped configs (every `*.toml` under `configs/`) and records the
//! git commit the binary was built from.
//!
//! - `$OUT_DIR/embedded_configs.rs` lists `(path relative to configs/, contents)` for every
//!   config, through `include_str!`, so the binary runs them by name from any directory.
//! - `AIMARKET_GIT_COMMIT` is `git rev-parse HEAD` and `AIMARKET_GIT_DIRTY` is `true` when
//!   `git status --porcelain` lists anything, `false` when it lists nothing. Outside a git
//!   checkout (or without git) both are `unknown`; the build never fails for want of git.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    embed_configs(&root);
    git_info(&root);
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
}

fn embed_configs(root: &Path) {
    let configs = root.join("configs");
    println!("cargo:rerun-if-changed={}", configs.display());
    let mut files = Vec::new();
    toml_files(&configs, &mut files);
    files.sort();
    let mut code = String::from("/// The shipped configs: (path relative to `configs/`, contents), sorted by path.\n");
    code.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&configs).expect("under configs/");
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            rel.join("/"),
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_configs.rs");
    std::fs::write(out, code).expect("write embedded_configs.rs");
}

/// Output of a git command run in `root`, or `None` when git is missing or fails.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .arg("--no-optional-locks")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn git_info(root: &Path) {
    for watched in ["src", "configs", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // A new commit or a staged change: HEAD, the branch it points to, the index.
    for name in ["HEAD", "index", "packed-refs"] {
        if let Some(p) = git(root, &["rev-parse", "--git-path", name]) {
            println!("cargo:rerun-if-changed={}", root.join(p.trim()).display());
        }
    }
    if let Some(r) = git(root, &["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(root, &["rev-parse", "--git-path", r.trim()])
    {
        println!("cargo:rerun-if-changed={}", root.join(p.trim()).display());
    }
    let commit = git(root, &["rev-parse", "HEAD"])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let dirty = if commit == "unknown" {
        "unknown".to_string()
    } else {
        git(root, &["status", "--porcelain"]).map_or("unknown".to_string(), |s| (!s.trim().is_empty()).to_string())
    };
    println!("cargo:rustc-env=AIMARKET_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=AIMARKET_GIT_DIRTY={dirty}");
}
