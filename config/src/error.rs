//! Configuration errors that name the file, line and column.
//!
//! Loading never stops at the first problem: every section is checked and
//! all errors come back together, so one edit-and-retry cycle fixes them all.

use std::fmt;
use std::ops::Range;

use crate::overrides::Overrides;

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, or the flag or environment variable that gave the value.
    pub file: String,
    /// 1-based; `None` when the problem is the file as a whole (unreadable)
    /// or a value from a flag or the environment.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every problem found in a configuration, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one source text and the settings given over it.
pub(crate) struct Sink<'a> {
    file: &'a str,
    text: &'a str,
    overrides: Option<&'a Overrides>,
    pub(crate) errors: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            overrides: None,
            errors: Vec::new(),
        }
    }

    /// A sink that also reports on values from flags and the environment,
    /// naming their origin where a file's value has its position.
    pub(crate) fn with_overrides(file: &'a str, text: &'a str, overrides: &'a Overrides) -> Self {
        Self {
            overrides: Some(overrides),
            ..Self::new(file, text)
        }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    pub(crate) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (file, position) = match self.overrides.and_then(|o| o.origin_of(&span)) {
            Some(origin) => (origin, None),
            None => (self.file, Some(line_col(self.text, span.start))),
        };
        self.errors.push(Diagnostic {
            file: file.to_owned(),
            position,
            message: message.into(),
        });
    }

    /// A deserialization error from the TOML layer, which carries its own span.
    pub(crate) fn toml(&mut self, err: &toml::de::Error, fallback: Range<usize>) {
        let span = err.span().unwrap_or(fallback);
        // toml's messages can span lines; the first one is the useful part.
        let msg = err
            .message()
            .lines()
            .next()
            .unwrap_or("invalid value")
            .trim()
            .to_owned();
        self.at(span, msg);
    }

    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|d| d.position);
            Err(ConfigErrors(self.errors))
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_col(t, 999), (3, 1));
    }
}
