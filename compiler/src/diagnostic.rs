//! Diagnostics: what every compiler phase reports, as data, and the one place
//! that turns them into text (`codespan-reporting`). Each diagnostic has a
//! stable id (`error[unbound-variable]`) that tests and `docs/diagnostics.md`
//! name; the message wording follows `erlc` where `erlc` has one.
//!
//! Rendering returns a `String`: the compiler does no I/O.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as ReportSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor, Config};

use crate::ast::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, kebab-case identifier such as `unbound-variable`.
    pub id: &'static str,
    pub message: String,
    pub span: Span,
    /// A short text shown under the caret.
    pub label: Option<String>,
    /// Further spans worth showing, each with its own text.
    pub secondary: Vec<(Span, String)>,
    /// Hints shown after the source excerpt.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(id: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            id,
            message: message.into(),
            span,
            label: None,
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(id: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(id, message, span) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Renders diagnostics as `erlc`-like text with the file name, line and column,
/// the source line and a caret. `color` adds ANSI colours (for a terminal).
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let file = SimpleFile::new(file_name, source);
    let config = Config::default();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = to_report(diagnostic, source.len());
        let rendered = if color {
            let mut buffer = termcolor::Buffer::ansi();
            term::emit_to_write_style(&mut buffer, &config, &file, &report)
                .map(|()| String::from_utf8_lossy(buffer.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, &file, &report)
        };
        // The spans come from the same source, so rendering cannot fail; if it
        // ever did, say so rather than lose the diagnostic.
        out.push_str(
            &rendered
                .unwrap_or_else(|error| format!("{file_name}: {}: {} ({error})\n", diagnostic.id, diagnostic.message)),
        );
    }
    out
}

fn to_report(diagnostic: &Diagnostic, source_len: usize) -> Report<()> {
    let clamp = |span: Span| {
        let start = (span.start as usize).min(source_len);
        start..(span.end as usize).clamp(start, source_len)
    };
    let mut primary = Label::primary((), clamp(diagnostic.span));
    if let Some(label) = &diagnostic.label {
        primary = primary.with_message(label);
    }
    let mut labels = vec![primary];
    for (span, text) in &diagnostic.secondary {
        labels.push(Label::secondary((), clamp(*span)).with_message(text));
    }
    let severity = match diagnostic.severity {
        Severity::Error => ReportSeverity::Error,
        Severity::Warning => ReportSeverity::Warning,
    };
    Report::new(severity)
        .with_code(diagnostic.id)
        .with_message(&diagnostic.message)
        .with_labels(labels)
        .with_notes(diagnostic.notes.clone())
}
