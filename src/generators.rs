//! What `cargo loco generate` leaves behind, settled into the app's layout.
//! Loco renders one file per template and only injects into files that
//! exist; a resource needs more files than that (its entity, its migration,
//! its view). The templates (`.loco-templates/`) write those as sections of
//! a file they do write, between
//!
//! ```text
//! // @generated-file <path>
//! ...
//! // @end-generated-file
//! ```
//!
//! and `settle`, run by the binary after `generate`, moves each section to a
//! file of its own at `<path>`.

use std::{
    io,
    path::{Path, PathBuf},
};

const START: &str = "// @generated-file ";
const END: &str = "// @end-generated-file";

/// The folders sections may be found in.
const FOLDERS: [&str; 3] = ["src", "migration/src", "tests"];

/// Moves every section under `root` to its own file; a file that exists
/// already is left as it is (the section is dropped), so that generating
/// again changes nothing. Returns the files written.
///
/// # Errors
/// When a file cannot be read or written, or a section has no end.
pub fn settle(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for folder in FOLDERS {
        for path in rust_files(&root.join(folder))? {
            let text = std::fs::read_to_string(&path)?;
            if !text.contains(START) {
                continue;
            }
            let (kept, sections) = split(&text).map_err(|line| {
                io::Error::other(format!("{}:{line}: a section with no end", path.display()))
            })?;
            for (target, content) in sections {
                let target = root.join(target);
                if !target.exists() {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&target, content)?;
                    written.push(target);
                }
            }
            std::fs::write(&path, kept)?;
        }
    }
    Ok(written)
}

fn rust_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// `text` without its sections, and each section's path and content; the
/// line number of a section with no end.
fn split(text: &str) -> Result<(String, Vec<(String, String)>), usize> {
    let mut kept = String::new();
    let mut sections = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (index, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix(START)) {
            (None, Some(target)) => {
                open = Some((index + 1, target.trim().to_string(), String::new()))
            }
            (None, None) => {
                kept.push_str(line);
                kept.push('\n');
            }
            (Some(_), _) if line.trim() == END => {
                if let Some((_, target, content)) = open.take() {
                    sections.push((target, content));
                }
            }
            (Some((_, _, content)), _) => {
                content.push_str(line);
                content.push('\n');
            }
        }
    }
    if let Some((line, ..)) = open {
        return Err(line);
    }
    Ok((kept, sections))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_leave_their_host_for_files_of_their_own() {
        let text = "pub mod gadgets;\n// @generated-file src/views/gadgets.rs\n//! Gadgets.\npub struct G;\n// @end-generated-file\nfn after() {}\n";
        let (kept, sections) = split(text).expect("closed");
        assert_eq!(kept, "pub mod gadgets;\nfn after() {}\n");
        assert_eq!(
            sections,
            [(
                "src/views/gadgets.rs".to_string(),
                "//! Gadgets.\npub struct G;\n".to_string()
            )]
        );
        assert_eq!(split("a\n// @generated-file x.rs\nb\n"), Err(2));
    }

    #[test]
    fn settling_writes_new_files_only() {
        let root = std::env::temp_dir().join(format!("settle-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("src/models")).expect("folder");
        let host = root.join("src/models/gadgets.rs");
        let section = "// @generated-file src/models/_entities/gadgets.rs\npub struct Model;\n// @end-generated-file\n";
        std::fs::write(&host, format!("use x;\n{section}")).expect("host");
        let written = settle(&root).expect("settled");
        assert_eq!(written, [root.join("src/models/_entities/gadgets.rs")]);
        assert_eq!(std::fs::read_to_string(&host).expect("host"), "use x;\n");
        std::fs::write(&host, format!("use x;\n{section}")).expect("again");
        std::fs::write(&written[0], "kept as it was\n").expect("edited");
        assert!(settle(&root).expect("settled").is_empty());
        let entity = std::fs::read_to_string(&written[0]).expect("entity");
        assert_eq!(entity, "kept as it was\n");
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
