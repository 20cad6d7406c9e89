//! Translations of the messages clients see. English is the source text; each
//! other language is a file `assets/i18n/<lang>.json` mapping an English
//! message to its translation, so a language is added by adding a file.

use std::{collections::HashMap, path::Path};

use crate::models::users::DEFAULT_LANGUAGE;

#[derive(Debug, Default)]
pub struct Translations {
    languages: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TranslationsError {
    #[error("cannot read translations in {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid translation file {path}: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

impl Translations {
    /// Loads every `<lang>.json` of a folder.
    ///
    /// # Errors
    /// When the folder or one of its files cannot be read or parsed.
    pub fn load(dir: &Path) -> Result<Self, TranslationsError> {
        let io_error = |source| TranslationsError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut languages = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
                continue;
            }
            let Some(language) = path.file_stem().and_then(|stem| stem.to_str()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|source| TranslationsError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let messages: HashMap<String, String> =
                serde_json::from_str(&text).map_err(|source| TranslationsError::Json {
                    path: path.display().to_string(),
                    source,
                })?;
            languages.insert(language.to_ascii_lowercase(), messages);
        }
        Ok(Self { languages })
    }

    #[must_use]
    pub fn supports(&self, language: &str) -> bool {
        language == DEFAULT_LANGUAGE || self.languages.contains_key(language)
    }

    /// Every language a user may choose, English first.
    #[must_use]
    pub fn languages(&self) -> Vec<&str> {
        let mut others: Vec<&str> = self.languages.keys().map(String::as_str).collect();
        others.sort_unstable();
        std::iter::once(DEFAULT_LANGUAGE)
            .chain(others.into_iter().filter(|lang| *lang != DEFAULT_LANGUAGE))
            .collect()
    }

    /// The message in `language`, or as given when there is no translation.
    #[must_use]
    pub fn translate<'a>(&'a self, language: &str, message: &'a str) -> &'a str {
        self.languages
            .get(language)
            .and_then(|messages| messages.get(message))
            .map_or(message, String::as_str)
    }

    /// The supported language an `Accept-Language` header prefers most.
    #[must_use]
    pub fn negotiate(&self, accept_language: &str) -> Option<String> {
        let mut best: Option<(String, f32)> = None;
        for range in accept_language.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if quality > 0.0
                && self.supports(&primary)
                && best.as_ref().is_none_or(|(_, q)| quality > *q)
            {
                best = Some((primary, quality));
            }
        }
        best.map(|(language, _)| language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Translations {
        let mut languages = HashMap::new();
        languages.insert(
            "fr".to_string(),
            HashMap::from([(
                "User not found".to_string(),
                "Utilisateur introuvable".to_string(),
            )]),
        );
        Translations { languages }
    }

    /// Every message of `errors::msg` has its French text.
    #[test]
    fn the_french_catalogue_covers_every_error_message() {
        let french: HashMap<String, String> =
            serde_json::from_str(include_str!("../../assets/i18n/fr.json")).expect("fr.json");
        let messages: Vec<&str> = include_str!("../errors/msg.rs")
            .lines()
            .filter(|line| line.trim_start().starts_with("pub const "))
            .filter_map(|line| line.split('"').nth(1))
            .collect();
        assert!(messages.len() > 20, "{messages:?}");
        for message in messages {
            assert!(french.contains_key(message), "no French for {message:?}");
        }
    }

    #[test]
    fn translates_known_messages_and_keeps_unknown_ones() {
        let translations = catalogue();
        assert_eq!(
            translations.translate("fr", "User not found"),
            "Utilisateur introuvable"
        );
        assert_eq!(
            translations.translate("fr", "Something else"),
            "Something else"
        );
        assert_eq!(
            translations.translate("de", "User not found"),
            "User not found"
        );
    }

    #[test]
    fn negotiates_by_quality_among_supported_languages() {
        let translations = catalogue();
        assert_eq!(
            translations
                .negotiate("fr-CH, fr;q=0.9, en;q=0.8")
                .as_deref(),
            Some("fr")
        );
        assert_eq!(
            translations.negotiate("de, en;q=0.5, fr;q=0.7").as_deref(),
            Some("fr")
        );
        assert_eq!(translations.negotiate("de").as_deref(), None);
        assert_eq!(translations.negotiate("fr;q=0, en").as_deref(), Some("en"));
    }

    #[test]
    fn lists_english_first() {
        assert_eq!(catalogue().languages(), vec!["en", "fr"]);
    }
}
