//! Cuts template source into tokens: text between actions, and the words
//! inside `{{ }}`. Trim markers (`{{- ` and ` -}}`) and comments are
//! handled here, so the parser never sees them.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Text(String),
    Open,
    Close,
    /// `.A.B`: the field names in order.
    Field(Vec<String>),
    Dot,
    /// `$x`, or `$` alone.
    Variable(String),
    Ident(String),
    /// A quoted or raw string: its value and its source text.
    Str(String, String),
    /// A number or character constant, as written.
    Number(String),
    Char(char, String),
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    Eof,
}

/// A token, where it starts in the source, and whether white space comes
/// right before it (`$x.A` differs from `$x .A`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub space_before: bool,
}

/// A lexing error: a message and where it happened.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LexError {
    pub message: String,
    pub pos: usize,
}

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// All tokens of `src`, ending with [`Tok::Eof`].
pub(super) fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn push(&mut self, tok: Tok, pos: usize, space_before: bool) {
        self.tokens.push(Token { tok, pos, space_before });
    }

    fn error<T>(&self, message: impl Into<String>, pos: usize) -> Result<T, LexError> {
        Err(LexError {
            message: message.into(),
            pos,
        })
    }

    fn run(&mut self) -> Result<(), LexError> {
        let mut trim_next_text = false;
        loop {
            let text_start = self.pos;
            let open_at = self.rest().find(OPEN).map(|i| self.pos + i);
            let text_end = open_at.unwrap_or(self.src.len());
            let mut text = &self.src[text_start..text_end];
            if trim_next_text {
                text = text.trim_start_matches(is_space);
            }
            let Some(open_at) = open_at else {
                if !text.is_empty() {
                    self.push(Tok::Text(text.to_owned()), text_start, false);
                }
                self.push(Tok::Eof, self.src.len(), false);
                return Ok(());
            };
            let after_open = &self.src[open_at + OPEN.len()..];
            let trim_left = after_open.starts_with('-') && after_open[1..].starts_with(is_space);
            if trim_left {
                text = text.trim_end_matches(is_space);
            }
            if !text.is_empty() {
                self.push(Tok::Text(text.to_owned()), text_start, false);
            }
            self.pos = open_at + OPEN.len() + if trim_left { 2 } else { 0 };
            trim_next_text = self.action(open_at)?;
        }
    }

    /// Lexes one action after its `{{`; returns whether it ended with a
    /// right trim marker.
    fn action(&mut self, open_at: usize) -> Result<bool, LexError> {
        let start = self.pos;
        let body = self.rest().trim_start_matches(is_space);
        if body.starts_with("/*") {
            return self.comment(open_at, start + (self.rest().len() - body.len()));
        }
        self.push(Tok::Open, open_at, false);
        let mut paren_depth = 0usize;
        loop {
            let before_space = self.pos;
            let skipped = self.rest().len() - self.rest().trim_start_matches(is_space).len();
            self.pos += skipped;
            let space_before = skipped > 0;
            let rest = self.rest();
            if space_before && rest.starts_with("-}}") {
                self.push(Tok::Close, self.pos, true);
                self.pos += 3;
                return Ok(true);
            }
            if rest.starts_with(CLOSE) {
                if paren_depth > 0 {
                    return self.error("unclosed left paren", self.pos);
                }
                self.push(Tok::Close, self.pos, space_before);
                self.pos += CLOSE.len();
                return Ok(false);
            }
            let Some(c) = rest.chars().next() else {
                return self.error("unclosed action", before_space);
            };
            let at = self.pos;
            match c {
                '|' => self.single(Tok::Pipe, space_before),
                ',' => self.single(Tok::Comma, space_before),
                '=' => self.single(Tok::Assign, space_before),
                '(' => {
                    paren_depth += 1;
                    self.single(Tok::LeftParen, space_before)
                }
                ')' => {
                    if paren_depth == 0 {
                        return self.error("unexpected right paren", at);
                    }
                    paren_depth -= 1;
                    self.single(Tok::RightParen, space_before)
                }
                ':' => {
                    if !rest.starts_with(":=") {
                        return self.error("expected :=", at);
                    }
                    self.pos += 2;
                    self.push(Tok::Declare, at, space_before);
                }
                '"' => self.quoted(space_before)?,
                '`' => self.raw(space_before)?,
                '\'' => self.char_constant(space_before)?,
                '$' => {
                    let name_len = rest[1..].find(|c: char| !is_alnum(c)).unwrap_or(rest.len() - 1);
                    let name = rest[..1 + name_len].to_owned();
                    self.pos += 1 + name_len;
                    self.push(Tok::Variable(name), at, space_before);
                }
                '.' => {
                    let next = rest[1..].chars().next();
                    if next.is_some_and(|n| n.is_ascii_digit()) {
                        self.number(space_before);
                    } else if next.is_some_and(is_alnum) {
                        self.field(space_before);
                    } else {
                        self.single(Tok::Dot, space_before);
                    }
                }
                c if c.is_ascii_digit() => self.number(space_before),
                '+' | '-' if rest[1..].starts_with(|n: char| n.is_ascii_digit() || n == '.') => {
                    self.number(space_before)
                }
                c if is_alnum(c) => {
                    let len = rest.find(|c: char| !is_alnum(c)).unwrap_or(rest.len());
                    let word = rest[..len].to_owned();
                    self.pos += len;
                    self.push(Tok::Ident(word), at, space_before);
                }
                c => return self.error(format!("unrecognized character in action: {}", quote_rune(c)), at),
            }
        }
    }

    fn comment(&mut self, open_at: usize, comment_at: usize) -> Result<bool, LexError> {
        let Some(end) = self.src[comment_at..].find("*/") else {
            return self.error("unclosed comment", open_at);
        };
        self.pos = comment_at + end + 2;
        let rest = self.rest();
        if rest.starts_with(CLOSE) {
            self.pos += CLOSE.len();
            return Ok(false);
        }
        let trimmed = rest.trim_start_matches(is_space);
        if trimmed.len() < rest.len() && trimmed.starts_with("-}}") {
            self.pos += rest.len() - trimmed.len() + 3;
            return Ok(true);
        }
        self.error("comment ends before closing delimiter", open_at)
    }

    fn single(&mut self, tok: Tok, space_before: bool) {
        let at = self.pos;
        self.pos += 1;
        self.push(tok, at, space_before);
    }

    fn field(&mut self, space_before: bool) {
        let at = self.pos;
        let mut names = Vec::new();
        while self.rest().starts_with('.') && self.rest()[1..].starts_with(is_alnum) {
            let rest = &self.rest()[1..];
            let len = rest.find(|c: char| !is_alnum(c)).unwrap_or(rest.len());
            names.push(rest[..len].to_owned());
            self.pos += 1 + len;
        }
        self.push(Tok::Field(names), at, space_before);
    }

    fn number(&mut self, space_before: bool) {
        let at = self.pos;
        let rest = self.rest();
        let mut end = 0;
        let mut prev = '\0';
        for (i, c) in rest.char_indices() {
            let is_sign = c == '+' || c == '-';
            let sign_ok = is_sign && (i == 0 || matches!(prev, 'e' | 'E' | 'p' | 'P'));
            if !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || sign_ok) {
                break;
            }
            end = i + c.len_utf8();
            prev = c;
        }
        let text = rest[..end].to_owned();
        self.pos += end;
        self.push(Tok::Number(text), at, space_before);
    }

    fn quoted(&mut self, space_before: bool) -> Result<(), LexError> {
        let at = self.pos;
        let rest = self.rest();
        let mut chars = rest.char_indices().skip(1);
        let mut value = String::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    let source = rest[..=i].to_owned();
                    self.pos += i + 1;
                    self.push(Tok::Str(value, source), at, space_before);
                    return Ok(());
                }
                '\n' => break,
                '\\' => {
                    let Some((_, escape)) = chars.next() else { break };
                    value.push(self.escape(escape, &mut chars, at)?);
                }
                c => value.push(c),
            }
        }
        self.error("unterminated quoted string", at)
    }

    /// Go's string escapes (`\n`, `\x41`, `\u00e9`, `\101`, ...).
    fn escape(
        &self,
        escape: char,
        chars: &mut impl Iterator<Item = (usize, char)>,
        at: usize,
    ) -> Result<char, LexError> {
        let hex_digits = |chars: &mut dyn Iterator<Item = (usize, char)>, count: usize, radix: u32| {
            let digits: String = chars.take(count).map(|(_, c)| c).collect();
            if digits.len() != count {
                return None;
            }
            u32::from_str_radix(&digits, radix).ok().and_then(char::from_u32)
        };
        let decoded = match escape {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            'x' => hex_digits(chars, 2, 16),
            'u' => hex_digits(chars, 4, 16),
            'U' => hex_digits(chars, 8, 16),
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                u32::from_str_radix(&format!("{escape}{rest}"), 8)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ => None,
        };
        match decoded {
            Some(c) => Ok(c),
            None => self.error("invalid syntax", at),
        }
    }

    fn raw(&mut self, space_before: bool) -> Result<(), LexError> {
        let at = self.pos;
        let Some(end) = self.rest()[1..].find('`') else {
            return self.error("unterminated raw quoted string", at);
        };
        let source = self.rest()[..end + 2].to_owned();
        let value = source[1..source.len() - 1].to_owned();
        self.pos += end + 2;
        self.push(Tok::Str(value, source), at, space_before);
        Ok(())
    }

    fn char_constant(&mut self, space_before: bool) -> Result<(), LexError> {
        let at = self.pos;
        let rest = self.rest();
        let mut chars = rest.char_indices().skip(1);
        let value = match chars.next() {
            Some((_, '\\')) => {
                let Some((_, escape)) = chars.next() else {
                    return self.error("unterminated character constant", at);
                };
                self.escape(escape, &mut chars, at)?
            }
            Some((_, c)) if c != '\'' && c != '\n' => c,
            _ => return self.error("unterminated character constant", at),
        };
        match chars.next() {
            Some((i, '\'')) => {
                let source = rest[..=i].to_owned();
                self.pos += i + 1;
                self.push(Tok::Char(value, source), at, space_before);
                Ok(())
            }
            _ => self.error("unterminated character constant", at),
        }
    }
}

/// Go's `%#U` of a character: `U+0023 '#'`.
fn quote_rune(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn text_fields_and_trim_markers() {
        assert_eq!(
            toks("a  {{- .A.B -}}  b"),
            vec![
                Tok::Text("a".into()),
                Tok::Open,
                Tok::Field(vec!["A".into(), "B".into()]),
                Tok::Close,
                Tok::Text("b".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn words_inside_actions() {
        assert_eq!(
            toks(r#"{{$x := index . "k\t" 3 -1.5 'a' `r`|len}}"#),
            vec![
                Tok::Open,
                Tok::Variable("$x".into()),
                Tok::Declare,
                Tok::Ident("index".into()),
                Tok::Dot,
                Tok::Str("k\t".into(), r#""k\t""#.into()),
                Tok::Number("3".into()),
                Tok::Number("-1.5".into()),
                Tok::Char('a', "'a'".into()),
                Tok::Str("r".into(), "`r`".into()),
                Tok::Pipe,
                Tok::Ident("len".into()),
                Tok::Close,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(
            toks("a {{- /* note */ -}} b{{/* x */}}"),
            vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(lex("{{.A").unwrap_err().message, "unclosed action");
        assert_eq!(lex(r#"{{"abc}}"#).unwrap_err().message, "unterminated quoted string");
        assert_eq!(
            lex("{{#}}").unwrap_err().message,
            "unrecognized character in action: U+0023 '#'"
        );
    }
}
