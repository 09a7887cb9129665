//! The templates, embedded in the binary so that apigen is one file to
//! install. A folder with files of the same names overrides them.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

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
