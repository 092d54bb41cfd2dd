//! Canonical filter text: lowercase keywords, quoted and re-escaped strings, single spaces,
//! and only the parentheses that precedence (RFC 7644 §3.4.2.2: not > and > or) requires.
//!
//! Printing then parsing gives back an equal tree; and/or are left-associative, so a right
//! operand of the same operator keeps its parentheses.

use std::fmt::{self, Display, Formatter};

use super::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};

/// Binding strength, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Atom,
}

impl Filter {
    fn precedence(&self) -> Precedence {
        match self {
            Self::Or(..) => Precedence::Or,
            Self::And(..) => Precedence::And,
            _ => Precedence::Atom,
        }
    }

    /// Prints `self`, parenthesised unless it binds at least as tightly as `minimum`.
    fn fmt_operand(&self, f: &mut Formatter<'_>, minimum: Precedence) -> fmt::Result {
        if self.precedence() >= minimum {
            write!(f, "{self}")
        } else {
            write!(f, "({self})")
        }
    }

    fn fmt_binary(
        f: &mut Formatter<'_>,
        left: &Filter,
        keyword: &str,
        right: &Filter,
        own: Precedence,
    ) -> fmt::Result {
        left.fmt_operand(f, own)?;
        write!(f, " {keyword} ")?;
        // Strictly tighter on the right: `a or (b or c)` is a different tree from `a or b or c`.
        let right_minimum = match own {
            Precedence::Or => Precedence::And,
            Precedence::And | Precedence::Atom => Precedence::Atom,
        };
        right.fmt_operand(f, right_minimum)
    }
}

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Or(left, right) => Self::fmt_binary(f, left, "or", right, Precedence::Or),
            Self::And(left, right) => Self::fmt_binary(f, left, "and", right, Precedence::And),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::Present(path) => write!(f, "{path} pr"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for CompValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => write_json_string(f, text),
            Self::Number(number) => write!(f, "{number}"),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// A JSON string literal (RFC 8259 §7): `"` and `\` and control characters escaped.
fn write_json_string(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl Display for AttrPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attribute)?;
        if let Some(sub) = &self.sub_attribute {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl Display for PatchPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attribute)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attribute {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
