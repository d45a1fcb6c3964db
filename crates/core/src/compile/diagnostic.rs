//! Compiler diagnostics: stable code, position, severity, message and help, rendered the way
//! rustc renders its own.

use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code: `E…` errors, `W…` warnings (see `codes`).
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub file: String,
    /// 1-based line and column (in characters) of the span's start.
    pub line: usize,
    pub column: usize,
    /// Byte range in the source.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// The codes, kept stable for agencies' tooling.
pub mod codes {
    pub const SYNTAX: &str = "E001";
    pub const UNKNOWN_KEY: &str = "E002";
    pub const WRONG_TYPE: &str = "E003";
    pub const MISSING_KEY: &str = "E004";
    pub const UNKNOWN_FACT: &str = "E005";
    pub const UNKNOWN_VALUE: &str = "E006";
    pub const INVALID_VALUE: &str = "E007";
    pub const UNKNOWN_TRIGGER: &str = "E008";
    pub const UNKNOWN_OUTCOME: &str = "E009";
    pub const MISSING_MESSAGE: &str = "E010";
    pub const WRONG_SCOPE: &str = "E011";
    pub const TOO_LARGE: &str = "E012";
    pub const LIST_TOO_LONG: &str = "E013";
    pub const STAFF_NOTE_TOO_LONG: &str = "E014";
    pub const UNKNOWN_TEST: &str = "E015";
    pub const SHADOWED_RULE: &str = "W101";
    pub const UNREACHABLE_RULE: &str = "W102";
    pub const DUPLICATE_ID: &str = "W103";
    pub const CONTRADICTION: &str = "W104";
    pub const EMPTY_CUTOFF_DAYS: &str = "W105";
    pub const UNUSED_TRIGGER: &str = "W106";
    pub const B2B_STORE_CREDIT: &str = "W107";
    pub const UNTRANSLATED_MESSAGE: &str = "W108";
    pub const OUTSIDE_FUNCTION: &str = "W109";
}

/// Collects diagnostics for one source file.
pub struct Diagnostics<'s> {
    source: &'s str,
    file: &'s str,
    pub list: Vec<Diagnostic>,
}

impl<'s> Diagnostics<'s> {
    pub fn new(source: &'s str, file: &'s str) -> Self {
        Diagnostics {
            source,
            file,
            list: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Error, code, span, message.into())
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Warning, code, span, message.into())
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: Range<usize>,
        message: String,
    ) -> &mut Diagnostic {
        let (line, column) = line_column(self.source, span.start);
        self.list.push(Diagnostic {
            code,
            severity,
            message,
            help: None,
            file: self.file.to_string(),
            line,
            column,
            span,
        });
        let last = self.list.len() - 1;
        // `last` is in bounds: an element was just pushed.
        #[allow(clippy::indexing_slicing)]
        &mut self.list[last]
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

impl Diagnostic {
    pub fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// rustc-style text with the source line and a caret under the span.
    pub fn render(&self, source: &str) -> String {
        let mut out = String::new();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{level}[{}]: {}", self.code, self.message);
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}--> {}:{}:{}", self.file, self.line, self.column);
        if let Some(text) = source.lines().nth(self.line.saturating_sub(1)) {
            let line_start = source
                .get(..self.span.start.min(source.len()))
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |i| i + 1);
            let line_end = line_start + text.len();
            let end = self.span.end.clamp(self.span.start, line_end);
            let width = source
                .get(self.span.start.min(source.len())..end.min(source.len()))
                .map_or(1, |s| s.chars().count())
                .max(1);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{} | {text}", self.line);
            let _ = writeln!(
                out,
                "{pad} | {}{}",
                " ".repeat(self.column.saturating_sub(1)),
                "^".repeat(width)
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.get(j).copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["minutes_since_placed", "risk_level", "order_tags"];
        assert_eq!(
            did_you_mean("minutes_since_placd", names),
            Some("minutes_since_placed")
        );
        assert_eq!(did_you_mean("risklevel", names), Some("risk_level"));
        assert_eq!(did_you_mean("banana", names), None);
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, src.find('=').unwrap()), (1, 3));
    }
}
