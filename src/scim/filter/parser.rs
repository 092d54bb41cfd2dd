//! Parsers for filters (RFC 7644 §3.4.2.2), PATCH paths (§3.5.2) and attribute lists (§3.9).
//!
//! winnow recognises the tokens; a small recursive-descent driver builds the tree so that every
//! error names the byte offset where the text stopped making sense, and so that nesting is
//! counted before each recursion (a hostile `((((…` fails fast instead of exhausting the stack).

use winnow::ascii::{Caseless, digit0, digit1};
use winnow::combinator::{alt, opt};
use winnow::error::EmptyError;
use winnow::prelude::*;
use winnow::token::{one_of, take_while};

use super::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath, Span};
use super::{FilterError, FilterLimits};

/// What a comparison accepts instead of a value; quoted in error messages.
const EXPECTED_OPERATOR: &str =
    "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)";
const EXPECTED_VALUE: &str = "expected a value (a quoted string, a number, true, false or null)";

/// The quotes a string literal may be written in: JSON's `"`, and `'` as GitHub's SCIM
/// documentation and its Go client write them (`emails[type eq 'work']`).
const QUOTES: [char; 2] = ['"', '\''];

/// Parses a `filter` query parameter or SearchRequest member (RFC 7644 §3.4.2.2).
///
/// Beyond the RFC grammar it accepts what Okta, Entra and GitHub-style clients send: any ASCII
/// whitespace run as `SP`; `not(` without a space; a string in single quotes (`'work'`, escapes
/// as in JSON plus `\'`); an unquoted word after `eq` as a string (`externalId eq jyoung`);
/// `true`/`false`/`null` in any case; and `emails[type eq "work"].value eq "x"`, read as
/// `emails[type eq "work" and value eq "x"]`.
pub fn parse_filter(text: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    let mut cursor = Cursor::new(text, limits)?;
    cursor.skip_ws();
    if cursor.at_end() {
        return Err(cursor.error(cursor.pos(), "the filter is empty"));
    }
    let (filter, _) = cursor.or_expr(0, false)?;
    cursor.skip_ws();
    cursor.expect_end("expected 'and', 'or' or the end of the filter")?;
    Ok(filter)
}

/// Parses a PATCH operation's `path`: `attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
///
/// The value filter is read by the same grammar as [`parse_filter`], literals included, so a
/// path means the same element a filter would find.
/// Uses [`FilterLimits::default`]; the PATCH body size already bounds the text.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, FilterError> {
    let limits = FilterLimits::default();
    let mut cursor = Cursor::new(text, &limits)?;
    cursor.skip_ws();
    let attribute = cursor.attr_path()?;
    let mut filter = None;
    let mut sub_attribute = None;
    if cursor.peek() == Some('[') {
        cursor.reject_sub_attribute_before_bracket(&attribute)?;
        filter = Some(cursor.bracketed_filter(0)?.0);
        if cursor.eat('.') {
            sub_attribute = Some(cursor.name("a sub-attribute name")?);
        }
    }
    cursor.skip_ws();
    cursor.expect_end("expected the end of the path")?;
    Ok(PatchPath {
        attribute,
        filter,
        sub_attribute,
    })
}

/// Parses `attributes`, `excludedAttributes` or `sortBy`: comma-separated attribute paths
/// (RFC 7644 §3.9, §3.4.2.3). An empty or blank text is an empty list.
pub fn parse_attribute_list(text: &str) -> Result<Vec<AttrPath>, FilterError> {
    let limits = FilterLimits::default();
    let mut cursor = Cursor::new(text, &limits)?;
    let mut paths = Vec::new();
    cursor.skip_ws();
    if cursor.at_end() {
        return Ok(paths);
    }
    loop {
        cursor.skip_ws();
        paths.push(cursor.attr_path()?);
        cursor.skip_ws();
        if cursor.at_end() {
            return Ok(paths);
        }
        if !cursor.eat(',') {
            return Err(cursor.error(cursor.pos(), "expected ',' between attribute paths"));
        }
    }
}

/// Characters of an attribute path token: names, `.` before a sub-attribute, and the `:` and
/// `.` of a schema URN such as `urn:ietf:params:scim:schemas:core:2.0:User`.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | '.' | ':')
}

/// `nameChar` of RFC 7643 §2.1, plus `$` so that `$ref` is a name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$')
}

/// `ATTRNAME = ALPHA *(nameChar)` (RFC 7643 §2.1), or `$ref`.
fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = match chars.next() {
        Some('$') => true,
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    };
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// Characters that end an unquoted word: whitespace, the grammar's punctuation and quotes (a
/// quote inside a word is a garbled literal, never part of the value).
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']') || QUOTES.contains(&c)
}

/// JSON `number` (RFC 8259 §6), which RFC 7644 §3.4.2.2 uses for `compValue`.
fn number_lexeme<'s>(input: &mut &'s str) -> Result<&'s str, EmptyError> {
    (
        opt('-'),
        alt(("0".void(), (one_of('1'..='9'), digit0).void())),
        opt(('.', digit1)),
        opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digit1)),
    )
        .take()
        .parse_next(input)
}

/// The value of a JSON number lexeme: an integer when it fits 64 bits, else the nearest f64
/// (std's parser rounds correctly, so printed floats read back to the same value).
fn number(lexeme: &str) -> Option<serde_json::Number> {
    if !lexeme.contains(['.', 'e', 'E']) {
        if let Ok(unsigned) = lexeme.parse::<u64>() {
            return Some(unsigned.into());
        }
        if let Ok(signed) = lexeme.parse::<i64>() {
            return Some(signed.into());
        }
    }
    serde_json::Number::from_f64(lexeme.parse::<f64>().ok()?)
}

/// The text being parsed and how far the parser got.
struct Cursor<'s> {
    source: &'s str,
    rest: &'s str,
    max_depth: usize,
}

impl<'s> Cursor<'s> {
    fn new(source: &'s str, limits: &FilterLimits) -> Result<Self, FilterError> {
        if source.len() > limits.max_length {
            return Err(FilterError::new(
                limits.max_length,
                format!("longer than the limit of {} bytes", limits.max_length),
            ));
        }
        Ok(Self {
            source,
            rest: source,
            max_depth: limits.max_depth,
        })
    }

    fn pos(&self) -> usize {
        self.source.len() - self.rest.len()
    }

    fn error(&self, position: usize, detail: impl Into<String>) -> FilterError {
        FilterError::new(position, detail)
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    /// Runs a token parser; on failure nothing is consumed.
    fn run<O>(&mut self, mut parser: impl Parser<&'s str, O, EmptyError>) -> Option<O> {
        let start = self.rest;
        match parser.parse_next(&mut self.rest) {
            Ok(output) => Some(output),
            Err(_) => {
                self.rest = start;
                None
            }
        }
    }

    /// Skips whitespace and says whether there was any.
    fn skip_ws(&mut self) -> bool {
        let skipped = self.run(take_while(0.., |c: char| c.is_ascii_whitespace()));
        skipped.is_some_and(|ws| !ws.is_empty())
    }

    fn eat(&mut self, expected: char) -> bool {
        self.run(expected).is_some()
    }

    /// Consumes `word` in any case when it is not the start of a longer name.
    fn keyword(&mut self, word: &'static str) -> bool {
        let start = self.rest;
        if self.run(Caseless(word)).is_some() && !self.peek().is_some_and(is_name_char) {
            return true;
        }
        self.rest = start;
        false
    }

    fn expect_end(&self, detail: &str) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(')') => Err(self.error(self.pos(), "')' without a matching '('")),
            Some(']') => Err(self.error(self.pos(), "']' without a matching '['")),
            Some(_) => Err(self.error(self.pos(), detail)),
        }
    }

    /// Refuses to open one more level of nesting beyond the limit, before recursing into it.
    fn check_nesting(&self, open: usize, at: usize) -> Result<(), FilterError> {
        if open >= self.max_depth {
            return Err(self.error(at, self.too_deep()));
        }
        Ok(())
    }

    fn too_deep(&self) -> String {
        format!("nested more than {} levels deep", self.max_depth)
    }

    /// `or`-chain; returns the filter and its nesting height (a chain counts as one level).
    fn or_expr(&mut self, open: usize, in_brackets: bool) -> Result<(Filter, usize), FilterError> {
        self.chain(open, in_brackets, "or", Self::and_expr, Filter::or)
    }

    fn and_expr(&mut self, open: usize, in_brackets: bool) -> Result<(Filter, usize), FilterError> {
        self.chain(open, in_brackets, "and", Self::unary, Filter::and)
    }

    /// `operand *(SP keyword SP operand)`, left-associative, built in a loop (no recursion).
    fn chain(
        &mut self,
        open: usize,
        in_brackets: bool,
        keyword: &'static str,
        mut operand: impl FnMut(&mut Self, usize, bool) -> Result<(Filter, usize), FilterError>,
        combine: fn(Filter, Filter) -> Filter,
    ) -> Result<(Filter, usize), FilterError> {
        let start = self.pos();
        let (mut filter, mut height) = operand(self, open, in_brackets)?;
        let mut chained = false;
        loop {
            let before = self.rest;
            self.skip_ws();
            if !self.keyword(keyword) {
                self.rest = before;
                break;
            }
            self.skip_ws();
            let (right, right_height) = operand(self, open, in_brackets)?;
            filter = combine(filter, right);
            height = height.max(right_height);
            chained = true;
        }
        if chained {
            height += 1;
            if height > self.max_depth {
                return Err(self.error(start, self.too_deep()));
            }
        }
        Ok((filter, height))
    }

    /// `"not" "(" valFilter ")"`, `"(" valFilter ")"`, or an attribute expression.
    fn unary(&mut self, open: usize, in_brackets: bool) -> Result<(Filter, usize), FilterError> {
        self.skip_ws();
        let start = self.pos();
        let before = self.rest;
        // `not` is a keyword only before `(`; otherwise it may be an attribute named "not…".
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                let (inner, height) = self.parenthesised(open, in_brackets)?;
                return self.bump(Filter::not(inner), height, start);
            }
            self.rest = before;
        }
        if self.peek() == Some('(') {
            let (inner, height) = self.parenthesised(open, in_brackets)?;
            return self.bump(inner, height, start);
        }
        self.attr_exp(open, in_brackets)
    }

    /// A construct one level above `height`, checked against the limit.
    fn bump(
        &self,
        filter: Filter,
        height: usize,
        start: usize,
    ) -> Result<(Filter, usize), FilterError> {
        if height + 1 > self.max_depth {
            return Err(self.error(start, self.too_deep()));
        }
        Ok((filter, height + 1))
    }

    /// `"(" valFilter ")"`, the cursor being on the `(`.
    fn parenthesised(
        &mut self,
        open: usize,
        in_brackets: bool,
    ) -> Result<(Filter, usize), FilterError> {
        let paren = self.pos();
        self.check_nesting(open, paren)?;
        self.eat('(');
        self.skip_ws();
        let inner = self.or_expr(open + 1, in_brackets)?;
        self.skip_ws();
        if !self.eat(')') {
            return Err(self.error(
                self.pos(),
                format!("expected ')' to close the '(' at position {paren}"),
            ));
        }
        Ok(inner)
    }

    /// `"[" valFilter "]"`, the cursor being on the `[`; returns the inner filter's height.
    fn bracketed_filter(&mut self, open: usize) -> Result<(Filter, usize), FilterError> {
        let bracket = self.pos();
        self.check_nesting(open, bracket)?;
        self.eat('[');
        self.skip_ws();
        let inner = self.or_expr(open + 1, true)?;
        self.skip_ws();
        if !self.eat(']') {
            return Err(self.error(
                self.pos(),
                format!("expected ']' to close the '[' at position {bracket}"),
            ));
        }
        Ok(inner)
    }

    fn reject_sub_attribute_before_bracket(&self, path: &AttrPath) -> Result<(), FilterError> {
        if path.sub_attribute.is_some() {
            return Err(self.error(
                self.pos(),
                "a value filter '[…]' must follow an attribute, not a sub-attribute",
            ));
        }
        Ok(())
    }

    /// `attrPath SP compareOp SP compValue`, `attrPath SP "pr"` or `valuePath`.
    fn attr_exp(&mut self, open: usize, in_brackets: bool) -> Result<(Filter, usize), FilterError> {
        let start = self.pos();
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            if in_brackets {
                return Err(self.error(self.pos(), "value filters '[…]' cannot be nested"));
            }
            self.reject_sub_attribute_before_bracket(&path)?;
            let (mut inner, mut height) = self.bracketed_filter(open)?;
            // Entra: `emails[type eq "work"].value eq "x"` means the same element must match both.
            if self.peek() == Some('.') {
                let dot = self.pos();
                self.eat('.');
                let sub_start = self.pos();
                let name = self.name("a sub-attribute name")?;
                let sub_path = AttrPath {
                    urn: None,
                    attribute: name,
                    sub_attribute: None,
                    span: Span::new(sub_start, self.pos()),
                };
                let comparison = self.comparison(sub_path)?;
                inner = Filter::and(inner, comparison);
                height += 1;
                if height + 1 > self.max_depth {
                    return Err(self.error(dot, self.too_deep()));
                }
            }
            return self.bump(Filter::value_path(path, inner), height, start);
        }
        Ok((self.comparison(path)?, 0))
    }

    /// `SP compareOp SP compValue` or `SP "pr"` after `path`.
    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        if !self.skip_ws() {
            return Err(self.error(self.pos(), EXPECTED_OPERATOR));
        }
        let op_start = self.pos();
        if self.keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let word = self
            .run(take_while(1.., is_name_char))
            .filter(|_| !self.peek().is_some_and(is_path_char));
        let Some(op) = word.and_then(CompareOp::from_keyword) else {
            self.rest = self.source.get(op_start..).unwrap_or_default();
            return Err(self.error(op_start, EXPECTED_OPERATOR));
        };
        self.skip_ws();
        let value = self.comp_value(op)?;
        Ok(Filter::compare(path, op, value))
    }

    /// `compValue`; after `eq`, also an unquoted word as a string (Entra, dossier §2.4).
    fn comp_value(&mut self, op: CompareOp) -> Result<CompValue, FilterError> {
        let start = self.pos();
        if let Some(quote) = self.peek().filter(|c| QUOTES.contains(c)) {
            return self.string_literal(quote).map(CompValue::String);
        }
        let Some(word) = self.run(take_while(1.., |c: char| !ends_word(c))) else {
            return Err(self.error(start, EXPECTED_VALUE));
        };
        if word.eq_ignore_ascii_case("true") {
            return Ok(CompValue::Bool(true));
        }
        if word.eq_ignore_ascii_case("false") {
            return Ok(CompValue::Bool(false));
        }
        if word.eq_ignore_ascii_case("null") {
            return Ok(CompValue::Null);
        }
        let mut lexeme = word;
        if number_lexeme(&mut lexeme).is_ok() && lexeme.is_empty() {
            return number(word)
                .map(CompValue::Number)
                .ok_or_else(|| self.error(start, format!("the number {word} is out of range")));
        }
        let is_keyword = word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or");
        if op == CompareOp::Eq && !is_keyword {
            return Ok(CompValue::String(word.to_owned()));
        }
        Err(self.error(
            start,
            format!("{EXPECTED_VALUE}; put text in double quotes"),
        ))
    }

    /// A JSON string (RFC 8259 §7), or the same between single quotes, with its escapes decoded;
    /// the cursor is on the opening `quote`.
    fn string_literal(&mut self, quote: char) -> Result<String, FilterError> {
        let open = self.pos();
        self.eat(quote);
        let mut text = String::new();
        loop {
            if let Some(run) = self.run(take_while(1.., |c: char| c != quote && c != '\\')) {
                text.push_str(run);
            }
            let escape_at = self.pos();
            match self.run(winnow::token::any) {
                None => {
                    return Err(self.error(open, "the string that starts here is not closed"));
                }
                Some(c) if c == quote => return Ok(text),
                Some(_backslash) => text.push(self.escape(escape_at)?),
            }
        }
    }

    /// The character of an escape whose `\` is at `at` and already consumed.
    fn escape(&mut self, at: usize) -> Result<char, FilterError> {
        let invalid = |cursor: &Self| cursor.error(at, "invalid escape sequence in string");
        let decoded = match self.run(winnow::token::any) {
            Some('"') => '"',
            Some('\'') => '\'',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let unit = self.hex4().ok_or_else(|| invalid(self))?;
                if !(0xD800..0xDC00).contains(&unit) {
                    return char::from_u32(unit).ok_or_else(|| invalid(self));
                }
                // A high surrogate must be followed by `\uDC00`–`\uDFFF` (RFC 8259 §7).
                let low = (self.run("\\u").and_then(|_| self.hex4()))
                    .filter(|low| (0xDC00..0xE000).contains(low))
                    .ok_or_else(|| invalid(self))?;
                let combined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(combined).ok_or_else(|| invalid(self));
            }
            _ => return Err(invalid(self)),
        };
        Ok(decoded)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.run(take_while(4, |c: char| c.is_ascii_hexdigit()))?;
        u32::from_str_radix(digits, 16).ok()
    }

    /// One attribute name (no URN, no dot).
    fn name(&mut self, what: &str) -> Result<String, FilterError> {
        let start = self.pos();
        match self.run(take_while(1.., is_name_char)) {
            Some(name) if is_attribute_name(name) => Ok(name.to_owned()),
            Some(name) => Err(self.error(start, format!("'{name}' is not an attribute name"))),
            None => Err(self.error(start, format!("expected {what}"))),
        }
    }

    /// `[URI ":"] ATTRNAME *1subAttr`: the URN is everything up to the last `:`.
    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos();
        let Some(token) = self.run(take_while(1.., is_path_char)) else {
            return Err(self.error(start, "expected an attribute path"));
        };
        let span = Span::new(start, self.pos());
        let (urn, rest, rest_at) = match token.rfind(':') {
            Some(colon) => {
                let urn = token.get(..colon).unwrap_or_default();
                if !urn.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    return Err(self.error(start, format!("'{urn}' is not a schema URN")));
                }
                let rest = token.get(colon + 1..).unwrap_or_default();
                (Some(urn.to_owned()), rest, start + colon + 1)
            }
            None => (None, token, start),
        };
        let (attribute, sub_attribute) = match rest.split_once('.') {
            Some((attribute, sub)) => (attribute, Some(sub)),
            None => (rest, None),
        };
        if !is_attribute_name(attribute) {
            let detail = if attribute.is_empty() {
                "expected an attribute name".to_owned()
            } else {
                format!("'{attribute}' is not an attribute name")
            };
            return Err(self.error(rest_at, detail));
        }
        if let Some(sub) = sub_attribute {
            let sub_at = rest_at + attribute.len() + 1;
            if let Some(dot) = sub.find('.') {
                return Err(self.error(
                    sub_at + dot,
                    "an attribute path has at most one sub-attribute",
                ));
            }
            if !is_attribute_name(sub) {
                let detail = if sub.is_empty() {
                    "expected a sub-attribute name after '.'".to_owned()
                } else {
                    format!("'{sub}' is not an attribute name")
                };
                return Err(self.error(sub_at, detail));
            }
        }
        Ok(AttrPath {
            urn,
            attribute: attribute.to_owned(),
            sub_attribute: sub_attribute.map(str::to_owned),
            span,
        })
    }
}
