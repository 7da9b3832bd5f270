//! Scenario errors: each names the file, the line, the field and the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field, as a dotted path (`load.rate`, `variants[2].env`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// Every problem found in one file (validation reports them all, not just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The scenario file.
    pub file: PathBuf,
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(line) => write!(f, "{}:{line}: ", self.file.display())?,
                None => write!(f, "{}: ", self.file.display())?,
            }
            write!(f, "{}: {}; fix: {}", p.field, p.message, p.fix)?;
        }
        Ok(())
    }
}

impl ScenarioError {
    /// A single-problem error.
    pub fn one(
        file: &Path,
        line: Option<usize>,
        field: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            problems: vec![Problem {
                line,
                field: field.to_string(),
                message: message.into(),
                fix: fix.into(),
            }],
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn display_names_file_line_field_and_fix() {
        let e = ScenarioError::one(
            Path::new("s.toml"),
            Some(4),
            "load.rate",
            "must be > 0",
            "set rate = 400",
        );
        assert_eq!(
            e.to_string(),
            "s.toml:4: load.rate: must be > 0; fix: set rate = 400"
        );
    }
}
