//! The templates, embedded in the binary so that apigen is one file to
//! install. A folder with files of the same names overrides them.

use std::path::Path;

/// (name, contents) of every template.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("Cargo.toml.tera", include_str!("../../templates/project/Cargo.toml.tera")),
    ("README.md.tera", include_str!("../../templates/project/README.md.tera")),
    ("template.yaml.tera", include_str!("../../templates/project/template.yaml.tera")),
    ("samconfig.toml.tera", include_str!("../../templates/project/samconfig.toml.tera")),
    ("gitignore", include_str!("../../templates/project/gitignore")),
    ("dot-cargo/config.toml", include_str!("../../templates/project/dot-cargo/config.toml")),
    ("src/main.rs.tera", include_str!("../../templates/project/src/main.rs.tera")),
    ("src/lib.rs.tera", include_str!("../../templates/project/src/lib.rs.tera")),
    ("src/handlers.rs.tera", include_str!("../../templates/project/src/handlers.rs.tera")),
    ("src/generated/mod.rs.tera", include_str!("../../templates/project/src/generated/mod.rs.tera")),
    ("src/generated/runtime.rs.tera", include_str!("../../templates/project/src/generated/runtime.rs.tera")),
    ("src/generated/http.rs", include_str!("../../templates/project/src/generated/http.rs")),
    ("src/generated/store/mod.rs", include_str!("../../templates/project/src/generated/store/mod.rs")),
    ("src/generated/store/dynamo.rs", include_str!("../../templates/project/src/generated/store/dynamo.rs")),
    ("src/generated/store/memory.rs", include_str!("../../templates/project/src/generated/store/memory.rs")),
];

/// The templates, with any overrides from `dir` applied.
pub fn load(dir: Option<&Path>) -> Result<Vec<(String, String)>, super::EmitError> {
    EMBEDDED
        .iter()
        .map(|(name, text)| {
            let custom = dir.map(|d| d.join(name)).filter(|p| p.is_file());
            match custom {
                Some(path) => std::fs::read_to_string(&path)
                    .map(|t| (name.to_string(), t))
                    .map_err(|e| super::EmitError::Template {
                        name: path.display().to_string(),
                        message: e.to_string(),
                    }),
                None => Ok((name.to_string(), text.to_string())),
            }
        })
        .collect()
}
