//! `.apigen/manifest.json`: what apigen last wrote into a project. It is how
//! regeneration tells a file apigen wrote from the same file edited by hand
//! since, and which generated files a spec change has made stale.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the manifest lives, relative to the project.
pub const PATH: &str = ".apigen/manifest.json";

/// The options a project was generated with, so that `apigen generate`
/// reproduces them without being told again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The package name given with `--name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The template override folder, relative to the project, `/`-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<String>,
    /// The runtime crate's folder given with `--runtime`, relative to the project,
    /// `/`-separated; absent when the project vendors its copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
}

impl Recorded {
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.templates.is_none() && self.runtime.is_none()
    }

    /// The template folder as a path, resolved against the project.
    pub fn templates_in(&self, project: &Path) -> Option<PathBuf> {
        self.templates.as_ref().map(|t| project.join(t))
    }
}

/// The manifest's contents. Serialized with sorted keys and a trailing
/// newline, so that the same files give the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The generator that wrote it.
    pub generator: String,
    /// The version of apigen-runtime the generated code was written for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Recorded::is_empty")]
    pub options: Recorded,
    /// Every file apigen owns, by `/`-separated path, with the SHA-256 of
    /// the contents it wrote.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn new(options: Recorded) -> Self {
        Self {
            generator: format!("apigen {}", env!("CARGO_PKG_VERSION")),
            runtime: Some(crate::emit::RUNTIME_VERSION.to_string()),
            options,
            files: BTreeMap::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest serializes");
        text.push('\n');
        text
    }

    /// Whether `contents` is exactly what apigen wrote at `path`.
    pub fn wrote(&self, path: &str, contents: &str) -> bool {
        self.files.get(path).is_some_and(|h| *h == hash(contents))
    }
}

/// The hex SHA-256 of a file's contents.
pub fn hash(contents: &str) -> String {
    Sha256::digest(contents.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `target` relative to `base`, `/`-separated, when both can be resolved;
/// otherwise `target` as given. A project is committed and cloned, so the
/// manifest must not hold this machine's absolute paths.
pub fn relative(target: &Path, base: &Path) -> String {
    let (Ok(target_abs), Ok(base_abs)) = (target.canonicalize(), absolute(base)) else {
        return slashes(target);
    };
    let t: Vec<Component> = target_abs.components().collect();
    let b: Vec<Component> = base_abs.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return slashes(&target_abs);
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// A folder that may not exist yet (a new project), made absolute through
/// its nearest existing ancestor.
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let mut missing = Vec::new();
    let mut current = path.to_path_buf();
    loop {
        match current.canonicalize() {
            Ok(found) => {
                return Ok(missing.iter().rev().fold(found, |p, s| p.join(s)));
            }
            Err(e) => {
                let (Some(parent), Some(name)) = (current.parent(), current.file_name()) else {
                    return Err(e);
                };
                missing.push(name.to_os_string());
                current = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
        }
    }
}

fn slashes(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_sorted_files() {
        let mut m = Manifest::new(Recorded {
            name: Some("pets".into()),
            templates: None,
            runtime: None,
        });
        m.files.insert("b.rs".into(), hash("b"));
        m.files.insert("a.rs".into(), hash("a"));
        let text = m.to_text();
        assert!(text.find("a.rs").unwrap() < text.find("b.rs").unwrap());
        assert!(!text.contains("templates"));
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        assert!(m.wrote("a.rs", "a"));
        assert!(!m.wrote("a.rs", "b"));
        assert!(!m.wrote("c.rs", "a"));
    }

    #[test]
    fn relative_paths_climb_out_of_the_project() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("templates")).unwrap();
        let project = work.path().join("api");
        assert_eq!(
            relative(&work.path().join("templates"), &project),
            "../templates"
        );
        std::fs::create_dir_all(project.join("tpl")).unwrap();
        assert_eq!(relative(&project.join("tpl"), &project), "tpl");
    }
}
