//! Embeds every file under templates/project into the binary, so that a
//! template added to the folder needs no code change; and the source of the
//! runtime crate (runtime/), which `apigen new` vendors into projects until
//! the crate is on crates.io.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf(),
            );
        }
    }
}

/// `(name, include_str!(path))` lines for every file under `root`, `names` relative to it.
fn embed(root: &Path, files: &[PathBuf], code: &mut String) {
    for file in files {
        let name = file.to_string_lossy().replace('\\', "/");
        let full = root.join(file);
        println!("cargo:rerun-if-changed={}", full.display());
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            full.display().to_string()
        ));
    }
}

fn main() {
    // Read at run time, not with env!: a build script compiled for one
    // checkout is reused by another that shares the target directory.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let templates = Path::new(&manifest).join("templates/project");
    println!("cargo:rerun-if-changed={}", templates.display());
    let mut files = Vec::new();
    collect(&templates, &templates, &mut files);
    let mut code = String::from(
        "/// (name, contents) of every template.\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    embed(&templates, &files, &mut code);
    code.push_str("];\n");

    // What a vendored copy needs to build: the manifest, the docs it
    // includes and the sources (tests included, so that it stays the crate).
    let runtime = Path::new(&manifest).join("runtime");
    println!("cargo:rerun-if-changed={}", runtime.display());
    let mut files = vec![
        PathBuf::from("Cargo.toml"),
        PathBuf::from("README.md"),
        PathBuf::from("CHANGELOG.md"),
        PathBuf::from("public-api.txt"),
    ];
    collect(&runtime.join("src"), &runtime, &mut files);
    code.push_str(
        "/// (path, contents) of the runtime crate's files.\npub const RUNTIME: &[(&str, &str)] = &[\n",
    );
    embed(&runtime, &files, &mut code);
    code.push_str("];\n");
    let cargo_toml =
        std::fs::read_to_string(runtime.join("Cargo.toml")).expect("runtime/Cargo.toml");
    let version = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("runtime/Cargo.toml has a version line");
    code.push_str(&format!(
        "/// The runtime crate's version.\npub const RUNTIME_VERSION: &str = {version:?};\n"
    ));
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("templates.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
