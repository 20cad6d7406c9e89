//! The layout's rules, checked on the source: imports run downwards
//! (controllers → views, mailers, workers → infra → models → entities), and
//! handlers stay slim.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

fn src(folder: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let files = if root.is_dir() {
        sources(&root)
    } else {
        vec![root.with_extension("rs")]
    };
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            (path, text)
        })
        .collect()
}

#[test]
fn nothing_below_the_controllers_imports_them() {
    let below = [
        "models",
        "views",
        "mailers",
        "workers",
        "tasks",
        "initializers",
        "middleware",
        "errors",
        "infra",
    ];
    for (path, text) in below.iter().flat_map(|folder| src(folder)) {
        assert!(
            !text.contains("controllers::"),
            "{} imports a controller",
            path.display()
        );
    }
}

#[test]
fn models_take_what_they_need_as_arguments() {
    let above = [
        "crate::infra",
        "crate::errors",
        "crate::mailers",
        "crate::workers",
        "crate::views",
        "crate::middleware",
        "crate::controllers",
        "crate::tasks",
    ];
    for (path, text) in src("models") {
        for module in above {
            assert!(
                !text.contains(module),
                "{} imports {module}",
                path.display()
            );
        }
    }
}

/// Mail goes one way: jobs (workers) use the mailers, the mailers use the
/// models (and own their delivery job, as Loco's mailer does); neither
/// reaches back up to tasks, initializers or the app's wiring, and the
/// mailers never into the workers.
#[test]
fn mailers_and_workers_import_nothing_above_them() {
    let above = ["crate::tasks", "crate::initializers", "crate::app::"];
    for (folder, also) in [("mailers", Some("crate::workers")), ("workers", None)] {
        for (path, text) in src(folder) {
            for module in above.iter().copied().chain(also) {
                assert!(
                    !text.contains(module),
                    "{} imports {module}",
                    path.display()
                );
            }
        }
    }
}

/// The names `text` takes from its parent module: `super::name` and the
/// entries of `super::{...}`.
fn names_from_parent(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("super::") {
        let rest = &text[at + "super::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut entry = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => names.push(std::mem::take(&mut entry)),
                    _ => entry.push(c),
                }
            }
            names.push(entry);
        } else {
            names.push(rest.to_string());
        }
    }
    names
        .iter()
        .map(|entry| {
            entry
                .trim()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The models one model file imports: `super::` names from a file of
/// `src/models/`, `crate::models::` names from a file of a folder in it.
fn models_imported(text: &str, in_folder: bool) -> Vec<String> {
    if in_folder {
        names_from_parent(&text.replace("crate::models::", "super::"))
    } else {
        names_from_parent(text)
    }
}

/// Models import one another one way only: no circle outside `_entities`
/// (a function on the wrong side of two models makes one).
#[test]
fn models_import_one_another_without_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/models");
    let mut imports: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for (path, text) in src("models") {
        let relative = path.strip_prefix(&root).expect("under src/models");
        let mut parts = relative
            .iter()
            .map(|part| part.to_string_lossy().to_string());
        let first = parts.next().expect("a name");
        if first == "_entities" || first == "mod.rs" {
            continue;
        }
        let in_folder = relative.components().count() > 1;
        let name = first.trim_end_matches(".rs").to_string();
        let entry = imports.entry(name.clone()).or_default();
        for other in models_imported(&text, in_folder) {
            if other != name && other != "_entities" {
                entry.insert(other);
            }
        }
    }
    let models: Vec<String> = imports.keys().cloned().collect();
    for model in &models {
        // Whatever `model` reaches, it must not reach itself.
        let mut seen = std::collections::BTreeSet::new();
        let mut next: Vec<&String> = imports[model].iter().collect();
        while let Some(other) = next.pop() {
            assert!(other != model, "{model} reaches itself through its imports");
            if seen.insert(other.clone())
                && let Some(more) = imports.get(other)
            {
                next.extend(more.iter());
            }
        }
    }
}

/// A controller renders what models and mailers hand it: it takes nothing
/// from another controller, only the routing (`docs`) and the extractors
/// they share.
#[test]
fn controllers_do_not_import_each_other() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/controllers");
    for (path, text) in src("controllers") {
        let top_level = path.parent() == Some(folder.as_path());
        if !top_level || path.ends_with("mod.rs") {
            continue;
        }
        for name in names_from_parent(&text) {
            assert!(
                ["docs", "extractors"].contains(&name.as_str()),
                "{} imports the controller module {name}",
                path.display()
            );
        }
    }
}

/// Each file reads in one sitting: a concern that grows past that becomes a
/// folder of concerns (`models/users/`).
#[test]
fn source_files_stay_under_500_lines() {
    for path in sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        let lines = std::fs::read_to_string(&path)
            .expect("readable")
            .lines()
            .count();
        assert!(lines < 500, "{} has {lines} lines", path.display());
    }
}

/// A handler parses, calls a model or two, and renders: a screen or less.
#[test]
fn handlers_are_short() {
    const MAX_BODY_LINES: usize = 25;
    for (path, text) in src("controllers") {
        let lines: Vec<&str> = text.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let Some(name) = line.strip_prefix("pub async fn ") else {
                continue;
            };
            let body_start = (start..lines.len())
                .find(|&index| lines[index].ends_with('{'))
                .expect("a body");
            let body_end = (body_start..lines.len())
                .find(|&index| lines[index] == "}")
                .expect("the end of the body");
            let length = body_end - body_start - 1;
            assert!(
                length <= MAX_BODY_LINES,
                "{}: {} has {length} lines",
                path.display(),
                name.split('(').next().unwrap_or(name)
            );
        }
    }
}

/// On SQLite a transaction that reads before it writes must take the write
/// lock up front; `write_transaction::begin` does, a plain `begin()` does not.
#[test]
fn transactions_begin_through_write_transaction() {
    for (path, text) in ["models", "controllers", "workers", "tasks", "initializers"]
        .iter()
        .flat_map(|folder| src(folder))
    {
        assert!(
            !text.contains(".begin()"),
            "{} begins a deferred transaction",
            path.display()
        );
    }
}
