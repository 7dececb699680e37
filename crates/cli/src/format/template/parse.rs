//! Builds the tree of a template from its tokens, as Go's `text/template/parse`
//! does: text, actions, `if`/`range`/`with` with `else` (and `else if`),
//! `break`/`continue`, pipelines with variable declarations, and commands.

use std::fmt;

use super::lex::{Tok, Token};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Pipeline),
    If(Branch),
    Range(Branch),
    With(Branch),
    Break,
    Continue,
}

/// The body of `if`, `range` or `with`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Branch {
    pub pipe: Pipeline,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pipeline {
    pub pos: usize,
    /// Variables declared (`$x :=`) or assigned (`$x =`) by the pipeline.
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Command {
    pub pos: usize,
    pub args: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    /// `.A.B` on dot.
    Field {
        pos: usize,
        names: Vec<String>,
    },
    /// `$x.A.B`.
    Variable {
        pos: usize,
        name: String,
        names: Vec<String>,
    },
    Function {
        pos: usize,
        name: String,
    },
    /// `(pipeline).A.B`.
    Chain {
        pos: usize,
        inner: Box<Operand>,
        names: Vec<String>,
    },
    Pipeline(Box<Pipeline>),
    Str {
        pos: usize,
        value: String,
        source: String,
    },
    Number {
        pos: usize,
        value: Number,
        source: String,
    },
}

impl Operand {
    pub fn pos(&self) -> usize {
        match self {
            Operand::Dot(pos) | Operand::Nil(pos) | Operand::Bool(pos, _) => *pos,
            Operand::Field { pos, .. }
            | Operand::Variable { pos, .. }
            | Operand::Function { pos, .. }
            | Operand::Chain { pos, .. }
            | Operand::Str { pos, .. }
            | Operand::Number { pos, .. } => *pos,
            Operand::Pipeline(pipe) => pipe.pos,
        }
    }
}

fn write_names(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    for name in names {
        write!(f, ".{name}")?;
    }
    Ok(())
}

/// Go's `Node.String()`, shown in execution errors (`at <.Names>`).
impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Dot(_) => f.write_str("."),
            Operand::Nil(_) => f.write_str("nil"),
            Operand::Bool(_, b) => write!(f, "{b}"),
            Operand::Field { names, .. } => write_names(f, names),
            Operand::Variable { name, names, .. } => {
                f.write_str(name)?;
                write_names(f, names)
            }
            Operand::Function { name, .. } => f.write_str(name),
            Operand::Chain { inner, names, .. } => {
                if let Operand::Pipeline(pipe) = inner.as_ref() {
                    write!(f, "({pipe})")?;
                } else {
                    write!(f, "{inner}")?;
                }
                write_names(f, names)
            }
            Operand::Pipeline(pipe) => write!(f, "({pipe})"),
            Operand::Str { source, .. } | Operand::Number { source, .. } => f.write_str(source),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.is_assign { "=" } else { ":=" }
            )?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

/// A parse error: a message and the source offset it is about.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ParseError {
    pub message: String,
    pub pos: usize,
}

/// Parses `tokens`; `is_function` says which identifiers name functions.
pub(super) fn parse(tokens: &[Token], is_function: &dyn Fn(&str) -> bool) -> Result<Vec<Node>, ParseError> {
    let mut parser = Parser {
        tokens,
        index: 0,
        vars: vec!["$".to_owned()],
        range_depth: 0,
        is_function,
    };
    let (nodes, end) = parser.list()?;
    match end {
        ListEnd::Eof => Ok(nodes),
        ListEnd::End(pos) => Err(ParseError {
            message: "unexpected {{end}}".to_owned(),
            pos,
        }),
        ListEnd::Else(pos) => Err(ParseError {
            message: "unexpected {{else}}".to_owned(),
            pos,
        }),
    }
}

/// What stopped a list of nodes.
enum ListEnd {
    Eof,
    /// `{{end}}`, consumed.
    End(usize),
    /// `{{else`, with the `else` word consumed but not what follows it.
    Else(usize),
}

#[derive(Clone, Copy, PartialEq)]
enum Control {
    If,
    Range,
    With,
}

impl Control {
    fn word(self) -> &'static str {
        match self {
            Control::If => "if",
            Control::Range => "range",
            Control::With => "with",
        }
    }
}

/// Where a pipeline ends.
#[derive(Clone, Copy, PartialEq)]
enum PipeEnd {
    Close,
    RightParen,
}

struct Parser<'a> {
    tokens: &'a [Token],
    index: usize,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    range_depth: usize,
    is_function: &'a dyn Fn(&str) -> bool,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(_) => "text".to_owned(),
        Tok::Open => "\"{{\"".to_owned(),
        Tok::Close => "\"}}\"".to_owned(),
        Tok::Field(names) => format!("<.{}>", names.join(".")),
        Tok::Dot => "<.>".to_owned(),
        Tok::Variable(name) => format!("<{name}>"),
        Tok::Ident(name) => format!("<{name}>"),
        Tok::Str(_, source) | Tok::Number(source) | Tok::Char(_, source) => format!("<{source}>"),
        Tok::Pipe => "\"|\"".to_owned(),
        Tok::LeftParen => "\"(\"".to_owned(),
        Tok::RightParen => "\")\"".to_owned(),
        Tok::Declare => "\":=\"".to_owned(),
        Tok::Assign => "\"=\"".to_owned(),
        Tok::Comma => "\",\"".to_owned(),
        Tok::Eof => "EOF".to_owned(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The lexer always ends the stream with Eof, which is never consumed.
        &self.tokens[self.index.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.index + ahead).min(self.tokens.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::Eof {
            self.index += 1;
        }
        token
    }

    fn error<T>(&self, message: impl Into<String>, pos: usize) -> Result<T, ParseError> {
        Err(ParseError {
            message: message.into(),
            pos,
        })
    }

    fn expect_close(&mut self, context: &str) -> Result<(), ParseError> {
        let token = self.next();
        match token.tok {
            Tok::Close => Ok(()),
            Tok::Eof => self.error("unclosed action", token.pos),
            other => self.error(format!("unexpected {} in {context}", describe(&other)), token.pos),
        }
    }

    fn list(&mut self) -> Result<(Vec<Node>, ListEnd), ParseError> {
        let mut nodes = Vec::new();
        loop {
            let token = self.next();
            match token.tok {
                Tok::Eof => return Ok((nodes, ListEnd::Eof)),
                Tok::Text(text) => nodes.push(Node::Text(text)),
                Tok::Open => {
                    if let Some(end) = self.action(&mut nodes)? {
                        return Ok((nodes, end));
                    }
                }
                other => return self.error(format!("unexpected {}", describe(&other)), token.pos),
            }
        }
    }

    /// Parses one action after `{{`; returns the list end it is, if any.
    fn action(&mut self, nodes: &mut Vec<Node>) -> Result<Option<ListEnd>, ParseError> {
        let token = self.peek().clone();
        let Tok::Ident(word) = &token.tok else {
            nodes.push(Node::Action(self.pipeline("command", PipeEnd::Close)?));
            return Ok(None);
        };
        match word.as_str() {
            "end" => {
                self.next();
                self.expect_close("end")?;
                Ok(Some(ListEnd::End(token.pos)))
            }
            "else" => {
                self.next();
                Ok(Some(ListEnd::Else(token.pos)))
            }
            "if" => {
                self.next();
                nodes.push(Node::If(self.control(Control::If)?));
                Ok(None)
            }
            "range" => {
                self.next();
                nodes.push(Node::Range(self.control(Control::Range)?));
                Ok(None)
            }
            "with" => {
                self.next();
                nodes.push(Node::With(self.control(Control::With)?));
                Ok(None)
            }
            "break" | "continue" => {
                self.next();
                if self.range_depth == 0 {
                    return self.error(format!("{{{{{word}}}}} outside {{{{range}}}}"), token.pos);
                }
                self.expect_close(word)?;
                nodes.push(if word == "break" { Node::Break } else { Node::Continue });
                Ok(None)
            }
            "define" | "template" | "block" => self.error(
                format!("{{{{{word}}}}} is not supported in --format templates"),
                token.pos,
            ),
            _ => {
                nodes.push(Node::Action(self.pipeline("command", PipeEnd::Close)?));
                Ok(None)
            }
        }
    }

    /// Parses `if`/`range`/`with` after its keyword, through its `{{end}}`.
    fn control(&mut self, control: Control) -> Result<Branch, ParseError> {
        let saved_vars = self.vars.len();
        let pipe = self.pipeline(control.word(), PipeEnd::Close)?;
        if control == Control::Range {
            self.range_depth += 1;
        }
        let listed = self.list();
        if control == Control::Range {
            self.range_depth -= 1;
        }
        let (list, end) = listed?;
        let else_list = match end {
            ListEnd::Eof => return self.error("unexpected EOF", self.peek().pos),
            ListEnd::End(_) => None,
            ListEnd::Else(_) => {
                // `{{else if ...}}` and `{{else with ...}}` nest a branch that
                // shares this one's {{end}}.
                let chained = match &self.peek().tok {
                    Tok::Ident(word) if word == "if" && control == Control::If => Some(Control::If),
                    Tok::Ident(word) if word == "with" && control == Control::With => Some(Control::With),
                    _ => None,
                };
                if let Some(inner) = chained {
                    self.next();
                    let branch = self.control(inner)?;
                    Some(vec![if inner == Control::If {
                        Node::If(branch)
                    } else {
                        Node::With(branch)
                    }])
                } else {
                    self.expect_close("else")?;
                    let (else_list, end) = self.list()?;
                    match end {
                        ListEnd::End(_) => Some(else_list),
                        ListEnd::Else(pos) => return self.error("expected end; found {{else}}", pos),
                        ListEnd::Eof => return self.error("unexpected EOF", self.peek().pos),
                    }
                }
            }
        };
        self.vars.truncate(saved_vars);
        Ok(Branch { pipe, list, else_list })
    }

    fn pipeline(&mut self, context: &str, end: PipeEnd) -> Result<Pipeline, ParseError> {
        let pos = self.peek().pos;
        let mut decl = Vec::new();
        let mut is_assign = false;
        if let Tok::Variable(first) = &self.peek().tok {
            let first = first.clone();
            match self.peek_at(1) {
                Tok::Declare | Tok::Assign => {
                    is_assign = *self.peek_at(1) == Tok::Assign;
                    self.next();
                    self.next();
                    decl.push(first);
                }
                Tok::Comma if context == "range" => {
                    if let (Tok::Variable(second), Tok::Declare | Tok::Assign) = (self.peek_at(2), self.peek_at(3)) {
                        let second = second.clone();
                        is_assign = *self.peek_at(3) == Tok::Assign;
                        for _ in 0..4 {
                            self.next();
                        }
                        decl.push(first);
                        decl.push(second);
                    } else {
                        return self.error("range can only initialize variables", pos);
                    }
                }
                Tok::Comma => return self.error(format!("too many declarations in {context}"), pos),
                _ => {}
            }
        }
        for name in &decl {
            if is_assign {
                if !self.vars.contains(name) {
                    return self.error(format!("undefined variable \"{name}\""), pos);
                }
            } else {
                self.vars.push(name.clone());
            }
        }
        let mut cmds = Vec::new();
        loop {
            let token = self.peek().clone();
            match (&token.tok, end) {
                (Tok::Close, PipeEnd::Close) | (Tok::RightParen, PipeEnd::RightParen) => {
                    self.next();
                    if cmds.is_empty() {
                        return self.error(format!("missing value for {context}"), token.pos);
                    }
                    return Ok(Pipeline {
                        pos,
                        decl,
                        is_assign,
                        cmds,
                    });
                }
                (Tok::Eof, _) => return self.error("unclosed action", token.pos),
                _ => {}
            }
            cmds.push(self.command(end)?);
            if self.peek().tok == Tok::Pipe {
                let pipe = self.next();
                if matches!(self.peek().tok, Tok::Close | Tok::RightParen | Tok::Pipe) {
                    return self.error("missing command after \"|\"", pipe.pos);
                }
            }
        }
    }

    fn command(&mut self, end: PipeEnd) -> Result<Command, ParseError> {
        let pos = self.peek().pos;
        let mut args = Vec::new();
        loop {
            let token = self.peek().clone();
            match token.tok {
                Tok::Pipe | Tok::Close | Tok::RightParen => break,
                Tok::Eof => return self.error("unclosed action", token.pos),
                _ => {}
            }
            if !args.is_empty() && !token.space_before {
                return self.error(format!("missing space before {}", describe(&token.tok)), token.pos);
            }
            args.push(self.operand()?);
        }
        let token = self.peek();
        let closes = match token.tok {
            Tok::Close => end == PipeEnd::Close,
            Tok::RightParen => end == PipeEnd::RightParen,
            _ => true,
        };
        if !closes {
            return self.error(format!("unexpected {} in operand", describe(&token.tok)), token.pos);
        }
        if args.is_empty() {
            return self.error("empty command", pos);
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let term = self.term()?;
        let Tok::Field(names) = &self.peek().tok else {
            return Ok(term);
        };
        if self.peek().space_before {
            return Ok(term);
        }
        let names = names.clone();
        let field_pos = self.peek().pos;
        match term {
            Operand::Variable {
                pos,
                name,
                names: mut own,
            } => {
                self.next();
                own.extend(names);
                Ok(Operand::Variable { pos, name, names: own })
            }
            Operand::Pipeline(_) | Operand::Function { .. } => {
                self.next();
                let pos = term.pos();
                Ok(Operand::Chain {
                    pos,
                    inner: Box::new(term),
                    names,
                })
            }
            other => self.error(format!("unexpected . after term \"{other}\""), field_pos),
        }
    }

    fn term(&mut self) -> Result<Operand, ParseError> {
        let token = self.next();
        let pos = token.pos;
        match token.tok {
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Operand::Bool(pos, true)),
                "false" => Ok(Operand::Bool(pos, false)),
                "nil" => Ok(Operand::Nil(pos)),
                _ if (self.is_function)(&name) => Ok(Operand::Function { pos, name }),
                _ => self.error(format!("function \"{name}\" not defined"), pos),
            },
            Tok::Dot => Ok(Operand::Dot(pos)),
            Tok::Field(names) => Ok(Operand::Field { pos, names }),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return self.error(format!("undefined variable \"{name}\""), pos);
                }
                Ok(Operand::Variable {
                    pos,
                    name,
                    names: Vec::new(),
                })
            }
            Tok::Str(value, source) => Ok(Operand::Str { pos, value, source }),
            Tok::Char(c, source) => Ok(Operand::Number {
                pos,
                value: Number::Int(i64::from(u32::from(c))),
                source,
            }),
            Tok::Number(source) => match parse_number(&source) {
                Some(value) => Ok(Operand::Number { pos, value, source }),
                None => self.error(format!("illegal number syntax: \"{source}\""), pos),
            },
            Tok::LeftParen => Ok(Operand::Pipeline(Box::new(
                self.pipeline("parenthesized pipeline", PipeEnd::RightParen)?,
            ))),
            other => self.error(format!("unexpected {} in operand", describe(&other)), pos),
        }
    }
}

/// Go's number constants: decimal, `0x`/`0o`/`0b`/leading-0 octal integers
/// with `_` separators, and floats.
fn parse_number(source: &str) -> Option<Number> {
    let cleaned = source.replace('_', "");
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let radix_digits = match digits.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => Some((16, &digits[2..])),
        Some("0o") => Some((8, &digits[2..])),
        Some("0b") => Some((2, &digits[2..])),
        _ if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some((8, &digits[1..]))
        }
        _ => None,
    };
    let magnitude = match radix_digits {
        Some((radix, body)) => u64::from_str_radix(body, radix).ok(),
        None => digits.parse::<u64>().ok(),
    };
    if let Some(magnitude) = magnitude {
        return if negative {
            0i64.checked_sub_unsigned(magnitude).map(Number::Int)
        } else {
            Some(i64::try_from(magnitude).map_or(Number::Uint(magnitude), Number::Int))
        };
    }
    if radix_digits.is_some() || !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    cleaned.parse::<f64>().ok().map(Number::Float)
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;

    fn parse_src(src: &str) -> Result<Vec<Node>, ParseError> {
        parse(&lex(src).unwrap(), &|name| {
            ["len", "index", "printf", "json"].contains(&name)
        })
    }

    #[test]
    fn pipelines_print_as_go() {
        let nodes = parse_src(r#"{{$x := index .Labels "a" | printf "%s" | len}}{{(json .).Len}}"#).unwrap();
        let Node::Action(pipe) = &nodes[0] else {
            panic!("action expected")
        };
        assert_eq!(pipe.to_string(), r#"$x := index .Labels "a" | printf "%s" | len"#);
        let Node::Action(pipe) = &nodes[1] else {
            panic!("action expected")
        };
        assert_eq!(pipe.to_string(), "(json .).Len");
    }

    #[test]
    fn else_if_chains() {
        let nodes = parse_src("{{if .A}}a{{else if .B}}b{{else}}c{{end}}").unwrap();
        let Node::If(branch) = &nodes[0] else {
            panic!("if expected")
        };
        let Some(else_list) = &branch.else_list else {
            panic!("else expected")
        };
        let Node::If(inner) = &else_list[0] else {
            panic!("nested if expected")
        };
        assert_eq!(inner.else_list, Some(vec![Node::Text("c".into())]));
    }

    #[test]
    fn errors() {
        let message = |src: &str| parse_src(src).unwrap_err().message;
        assert_eq!(message("{{bogus .}}"), "function \"bogus\" not defined");
        assert_eq!(message("{{end}}"), "unexpected {{end}}");
        assert_eq!(message("{{if .A}}x"), "unexpected EOF");
        assert_eq!(message("{{$y}}"), "undefined variable \"$y\"");
        assert_eq!(message("{{break}}"), "{{break}} outside {{range}}");
        assert_eq!(message("{{if}}{{end}}"), "missing value for if");
        assert_eq!(
            message("{{range $i, $e := .}}{{$e}}{{end}}{{$e}}"),
            "undefined variable \"$e\""
        );
        assert!(parse_src("{{range $i, $e := .}}{{$i}}{{break}}{{end}}").is_ok());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("42"), Some(Number::Int(42)));
        assert_eq!(parse_number("-0x10"), Some(Number::Int(-16)));
        assert_eq!(parse_number("1_000"), Some(Number::Int(1000)));
        assert_eq!(parse_number("1.5e3"), Some(Number::Float(1500.0)));
        assert_eq!(parse_number("18446744073709551615"), Some(Number::Uint(u64::MAX)));
        assert_eq!(parse_number("0x"), None);
        assert_eq!(parse_number("1x"), None);
    }
}
