//! The functions a template can call: Go's built-ins (`and`, `or`, `not`,
//! `len`, `index`, `slice`, `print`, `printf`, `println`, `eq`, `ne`, `lt`,
//! `le`, `gt`, `ge`, `html`, `js`, `urlquery`) and podman's additions
//! (`json`, `lower`, `upper`, `title`, `join`, `split`, `truncate`, `pad`).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use crate::format::json::{JsonStyle, write_json};
use crate::format::value::{Value, format_float_e, format_float_g};

/// Why a function call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FuncError {
    /// The function failed (`error calling index: index out of range: 3`).
    Call(String),
    /// An argument has the wrong type (`wrong type for value; expected string; got int64`).
    Argument(String),
}

/// A function: how many arguments it takes and what it does.
pub type FuncBody = fn(&[Value]) -> Result<Value, FuncError>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Func {
    /// Evaluated lazily, returning the first false argument (or the last).
    And,
    /// Evaluated lazily, returning the first true argument (or the last).
    Or,
    Plain {
        min: usize,
        /// `None` for variadic functions.
        max: Option<usize>,
        call: FuncBody,
    },
}

/// The functions templates may call, by name.
#[derive(Debug, Clone)]
pub struct Funcs {
    table: HashMap<&'static str, Func>,
}

impl Default for Funcs {
    fn default() -> Self {
        Self::standard()
    }
}

impl Funcs {
    /// Go's built-in functions plus podman's (`containers/common` report functions).
    pub fn standard() -> Self {
        let mut funcs = Funcs { table: HashMap::new() };
        funcs.table.insert("and", Func::And);
        funcs.table.insert("or", Func::Or);
        let fixed: [(&'static str, usize, FuncBody); 15] = [
            ("not", 1, not),
            ("len", 1, len),
            ("ne", 2, ne),
            ("lt", 2, lt),
            ("le", 2, le),
            ("gt", 2, gt),
            ("ge", 2, ge),
            ("json", 1, json),
            ("lower", 1, lower),
            ("upper", 1, upper),
            ("title", 1, title),
            ("join", 2, join),
            ("split", 2, split),
            ("truncate", 2, truncate),
            ("pad", 3, pad),
        ];
        for (name, arity, call) in fixed {
            funcs = funcs.with(name, arity, Some(arity), call);
        }
        let variadic: [(&'static str, usize, FuncBody); 9] = [
            ("index", 1, index),
            ("slice", 1, slice),
            ("print", 0, print),
            ("printf", 1, printf),
            ("println", 0, println),
            ("eq", 1, eq),
            ("html", 0, html),
            ("js", 0, js),
            ("urlquery", 0, urlquery),
        ];
        for (name, min, call) in variadic {
            funcs = funcs.with(name, min, None, call);
        }
        funcs
    }

    /// Adds (or replaces) a function taking `min` to `max` arguments
    /// (`max: None` for any number), as podman commands add their own.
    pub fn with(mut self, name: &'static str, min: usize, max: Option<usize>, call: FuncBody) -> Self {
        self.table.insert(name, Func::Plain { min, max, call });
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Func> {
        self.table.get(name)
    }

    /// Whether a function of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.table.contains_key(name)
    }
}

fn wrong_type(expected: &str, got: &Value) -> FuncError {
    match got {
        Value::Nil => FuncError::Argument(format!("invalid value; expected {expected}")),
        other => FuncError::Argument(format!(
            "wrong type for value; expected {expected}; got {}",
            other.type_name()
        )),
    }
}

fn string_arg(value: &Value) -> Result<&str, FuncError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong_type("string", other)),
    }
}

fn int_arg(value: &Value) -> Result<i64, FuncError> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::Uint(n) => i64::try_from(*n).map_err(|_| wrong_type("int", value)),
        other => Err(wrong_type("int", other)),
    }
}

fn string_list_arg(value: &Value) -> Result<Vec<&str>, FuncError> {
    let Value::List(items) = value else {
        return Err(wrong_type("[]string", value));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.as_str()),
            _ => Err(wrong_type("[]string", value)),
        })
        .collect()
}

fn not(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(!args[0].is_true()))
}

fn len(args: &[Value]) -> Result<Value, FuncError> {
    let n = match &args[0] {
        Value::String(s) => s.len(),
        Value::List(items) => items.len(),
        Value::Map(map) => map.len(),
        Value::Nil => return Err(FuncError::Call("len of nil pointer".to_owned())),
        other => return Err(FuncError::Call(format!("len of type {}", other.type_name()))),
    };
    Ok(Value::Int(n as i64))
}

fn index_of(len: usize, index: &Value) -> Result<usize, FuncError> {
    let n = match index {
        Value::Int(n) => *n,
        Value::Uint(n) => i64::try_from(*n).unwrap_or(i64::MAX),
        other => {
            return Err(FuncError::Call(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    usize::try_from(n)
        .ok()
        .filter(|i| *i < len)
        .ok_or_else(|| FuncError::Call(format!("index out of range: {n}")))
}

fn index(args: &[Value]) -> Result<Value, FuncError> {
    let mut current = args[0].clone();
    for key in &args[1..] {
        current = match &current {
            Value::List(items) => items[index_of(items.len(), key)?].clone(),
            Value::Map(map) => {
                let key = match key {
                    Value::String(s) => s.clone(),
                    Value::Int(_) | Value::Uint(_) | Value::Bool(_) => key.to_string(),
                    other => {
                        return Err(FuncError::Call(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        )));
                    }
                };
                match map.get(&key) {
                    Some(value) => value.clone(),
                    // Go returns the zero value of the map's element type.
                    None => map.values().next().map_or(Value::Nil, Value::zero_like),
                }
            }
            Value::Nil => return Err(FuncError::Call("index of untyped nil".to_owned())),
            other => {
                return Err(FuncError::Call(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(current)
}

fn slice(args: &[Value]) -> Result<Value, FuncError> {
    let len = match &args[0] {
        Value::String(s) => s.len(),
        Value::List(items) => items.len(),
        other => {
            return Err(FuncError::Call(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    if args.len() > 3 {
        return Err(FuncError::Call(format!("too many slice indexes: {}", args.len() - 1)));
    }
    let bound = |i: usize, default: usize| -> Result<usize, FuncError> {
        match args.get(i) {
            None => Ok(default),
            Some(v) => {
                let n = int_arg(v)?;
                usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= len)
                    .ok_or_else(|| FuncError::Call(format!("index out of range: {n}")))
            }
        }
    };
    let start = bound(1, 0)?;
    let end = bound(2, len)?;
    if start > end {
        return Err(FuncError::Call(format!("invalid slice index: {start} > {end}")));
    }
    match &args[0] {
        Value::String(s) => s
            .get(start..end)
            .map(|part| Value::String(part.to_owned()))
            .ok_or_else(|| FuncError::Call("slice splits a character".to_owned())),
        Value::List(items) => Ok(Value::List(items[start..end].into())),
        _ => Err(FuncError::Call("can't slice".to_owned())),
    }
}

/// Go's `fmt.Sprint`: a space between two operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut previous_is_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !previous_is_string {
            out.push(' ');
        }
        out.push_str(&arg.to_string());
        previous_is_string = is_string;
    }
    out
}

fn print(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(sprint(args)))
}

fn println(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = args.iter().map(Value::to_string).collect::<Vec<_>>().join(" ");
    out.push('\n');
    Ok(Value::String(out))
}

fn printf(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(sprintf(string_arg(&args[0])?, &args[1..])))
}

/// Compares two basic values as Go's `eq`/`lt` do.
fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, FuncError> {
    let incompatible = || FuncError::Call("incompatible types for comparison".to_owned());
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Uint(x), Value::Uint(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Uint(y)) => Some(i128::from(*x).cmp(&i128::from(*y))),
        (Value::Uint(x), Value::Int(y)) => Some(i128::from(*x).cmp(&i128::from(*y))),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Nil, Value::Nil) => Some(Ordering::Equal),
        (Value::Nil, _) | (_, Value::Nil) => None,
        (Value::Struct(_), Value::Struct(_)) => (a == b).then_some(Ordering::Equal),
        (Value::List(_) | Value::Map(_), _) | (_, Value::List(_) | Value::Map(_)) => {
            return Err(FuncError::Call(format!("non-comparable type {a}: {}", a.type_name())));
        }
        _ => return Err(incompatible()),
    })
}

fn eq(args: &[Value]) -> Result<Value, FuncError> {
    if args.len() < 2 {
        return Err(FuncError::Call("missing argument for comparison".to_owned()));
    }
    for other in &args[1..] {
        if compare(&args[0], other)? == Some(Ordering::Equal) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn ne(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(compare(&args[0], &args[1])? != Some(Ordering::Equal)))
}

fn ordered(args: &[Value], accept: fn(Ordering) -> bool) -> Result<Value, FuncError> {
    if matches!(args[0], Value::Bool(_) | Value::Nil | Value::Struct(_)) {
        return Err(FuncError::Call("invalid type for comparison".to_owned()));
    }
    Ok(Value::Bool(compare(&args[0], &args[1])?.is_some_and(accept)))
}

fn lt(args: &[Value]) -> Result<Value, FuncError> {
    ordered(args, Ordering::is_lt)
}

fn le(args: &[Value]) -> Result<Value, FuncError> {
    ordered(args, Ordering::is_le)
}

fn gt(args: &[Value]) -> Result<Value, FuncError> {
    ordered(args, Ordering::is_gt)
}

fn ge(args: &[Value]) -> Result<Value, FuncError> {
    ordered(args, Ordering::is_ge)
}

/// The text the escaping functions work on: a lone string as is, else `fmt.Sprint`.
fn escaping_input(args: &[Value]) -> String {
    match args {
        [Value::String(s)] => s.clone(),
        _ => sprint(args),
    }
}

fn html(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for c in escaping_input(args).chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

fn js(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for c in escaping_input(args).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' | '>' | '&' | '=' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

fn urlquery(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for byte in escaping_input(args).bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::String(out))
}

fn json(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(write_json(&args[0], JsonStyle::TEMPLATE)))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(string_arg(&args[0])?.to_lowercase()))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(string_arg(&args[0])?.to_uppercase()))
}

/// Go's deprecated `strings.Title`: the first letter of every word upper-cased;
/// ASCII letters, digits and `_` (and any non-ASCII letter or digit) continue a word.
fn title(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = String::new();
    let mut previous_separates = true;
    for c in string_arg(&args[0])?.chars() {
        if previous_separates {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        previous_separates = !(c.is_alphanumeric() || c == '_');
    }
    Ok(Value::String(out))
}

fn join(args: &[Value]) -> Result<Value, FuncError> {
    let items = string_list_arg(&args[0])?;
    Ok(Value::String(items.join(string_arg(&args[1])?)))
}

fn split(args: &[Value]) -> Result<Value, FuncError> {
    let text = string_arg(&args[0])?;
    let separator = string_arg(&args[1])?;
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(separator)
            .map(|part| Value::String(part.to_owned()))
            .collect()
    };
    Ok(Value::List(parts.into()))
}

/// podman's `truncate`: the first `length` bytes (here: whole characters
/// only, so the result stays valid text).
fn truncate(args: &[Value]) -> Result<Value, FuncError> {
    let text = string_arg(&args[0])?;
    let length = usize::try_from(int_arg(&args[1])?).unwrap_or(0);
    if text.len() < length {
        return Ok(Value::String(text.to_owned()));
    }
    let mut end = length;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Value::String(text[..end].to_owned()))
}

/// podman's `pad`: spaces before and after, unless the text is empty.
fn pad(args: &[Value]) -> Result<Value, FuncError> {
    let text = string_arg(&args[0])?;
    let before = usize::try_from(int_arg(&args[1])?).unwrap_or(0);
    let after = usize::try_from(int_arg(&args[2])?).unwrap_or(0);
    if text.is_empty() {
        return Ok(Value::String(String::new()));
    }
    Ok(Value::String(format!(
        "{}{text}{}",
        " ".repeat(before),
        " ".repeat(after)
    )))
}

/// A `printf` directive's flags, width and precision.
#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%v %+v %s %q %d %t %f
/// %F %e %E %g %G %x %X %o %b %c %U %%`, with flags, width and precision.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, next_arg: &mut usize| {
            if chars.peek() == Some(&'*') {
                chars.next();
                let value = args.get(*next_arg).and_then(|v| int_arg(v).ok());
                *next_arg += 1;
                return value.and_then(|n| usize::try_from(n).ok());
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            digits.parse().ok()
        };
        spec.width = number(&mut chars, &mut next_arg);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(number(&mut chars, &mut next_arg).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        out.push_str(&format_arg(verb, &spec, arg));
    }
    if next_arg < args.len() {
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|arg| match arg {
                Value::Nil => "<nil>".to_owned(),
                other => format!("{}={other}", other.type_name()),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        other => format!("%!{verb}({}={other})", other.type_name()),
    }
}

/// Go's `strconv.Quote`.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn sign(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// Formats each element of a list or map with the same verb (`[a b]`).
fn format_each(verb: char, spec: &Spec, arg: &Value) -> Option<String> {
    let inner = Spec {
        plus: spec.plus,
        sharp: spec.sharp,
        ..Spec::default()
    };
    match arg {
        Value::List(items) => Some(format!(
            "[{}]",
            items
                .iter()
                .map(|item| format_verb(verb, &inner, item))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Value::Map(map) => Some(format!(
            "map[{}]",
            map.iter()
                .map(|(key, item)| format!(
                    "{}:{}",
                    format_verb(verb, &inner, &Value::String(key.clone())),
                    format_verb(verb, &inner, item)
                ))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Value::Struct(s) => Some(format!(
            "{{{}}}",
            s.fields
                .iter()
                .map(|(name, item)| {
                    let value = format_verb(verb, &inner, item);
                    if spec.plus { format!("{name}:{value}") } else { value }
                })
                .collect::<Vec<_>>()
                .join(" ")
        )),
        _ => None,
    }
}

/// One directive without width padding.
fn format_verb(verb: char, spec: &Spec, arg: &Value) -> String {
    if let Some(composite) = format_each(verb, spec, arg) {
        return composite;
    }
    match (verb, arg) {
        ('v', Value::Float(x)) => format_float_g(*x, None),
        ('v', Value::String(s)) if spec.sharp => quote(s),
        ('v', other) => other.to_string(),
        ('s', Value::String(s)) => match spec.precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        ('q', Value::String(s)) => quote(s),
        ('q', Value::Int(n)) => char::from_u32(*n as u32).map_or_else(|| bad_verb(verb, arg), |c| format!("'{c}'")),
        ('t', Value::Bool(b)) => b.to_string(),
        ('d', Value::Int(n)) => format!("{}{}", sign(spec, *n < 0), n.unsigned_abs()),
        ('d', Value::Uint(n)) => format!("{}{n}", sign(spec, false)),
        ('x' | 'X' | 'o' | 'b', Value::Int(_) | Value::Uint(_)) => {
            let (negative, magnitude) = match arg {
                Value::Int(n) => (*n < 0, n.unsigned_abs()),
                Value::Uint(n) => (false, *n),
                _ => (false, 0),
            };
            let (body, prefix) = match verb {
                'x' => (format!("{magnitude:x}"), "0x"),
                'X' => (format!("{magnitude:X}"), "0X"),
                'o' => (format!("{magnitude:o}"), "0"),
                _ => (format!("{magnitude:b}"), "0b"),
            };
            let prefix = if spec.sharp { prefix } else { "" };
            format!("{}{prefix}{body}", sign(spec, negative))
        }
        ('x', Value::String(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
        ('X', Value::String(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
        ('c', Value::Int(n)) => char::from_u32(*n as u32).map_or('\u{FFFD}', |c| c).to_string(),
        ('c', Value::Uint(n)) => char::from_u32(*n as u32).map_or('\u{FFFD}', |c| c).to_string(),
        ('U', Value::Int(n)) => format!("U+{:04X}", n),
        ('U', Value::Uint(n)) => format!("U+{:04X}", n),
        ('f' | 'F', Value::Float(x)) => {
            format!(
                "{}{:.*}",
                sign(spec, x.is_sign_negative()),
                spec.precision.unwrap_or(6),
                x.abs()
            )
        }
        ('e' | 'E', Value::Float(x)) => {
            let body = format_float_e(x.abs(), Some(spec.precision.unwrap_or(6)));
            let body = if verb == 'E' { body.to_uppercase() } else { body };
            format!("{}{body}", sign(spec, x.is_sign_negative()))
        }
        ('g' | 'G', Value::Float(x)) => {
            let body = format_float_g(x.abs(), spec.precision);
            let body = if verb == 'G' { body.to_uppercase() } else { body };
            format!("{}{body}", sign(spec, x.is_sign_negative()))
        }
        _ => bad_verb(verb, arg),
    }
}

fn format_arg(verb: char, spec: &Spec, arg: &Value) -> String {
    let body = format_verb(verb, spec, arg);
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        return format!("{body}{}", " ".repeat(fill));
    }
    if spec.zero {
        let numeric = matches!(arg, Value::Int(_) | Value::Uint(_) | Value::Float(_));
        if numeric && body.starts_with(['-', '+', ' ']) {
            let (sign, digits) = body.split_at(1);
            return format!("{sign}{}{digits}", "0".repeat(fill));
        }
        return format!("{}{body}", "0".repeat(fill));
    }
    format!("{}{body}", " ".repeat(fill))
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FuncError::Call(message) | FuncError::Argument(message) => f.write_str(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    #[test]
    fn printf_verbs() {
        assert_eq!(
            sprintf("%s-%d-%v", &[s("a"), Value::Int(-3), Value::Bool(true)]),
            "a--3-true"
        );
        assert_eq!(sprintf("%-6s|%6s|", &[s("ab"), s("cd")]), "ab    |    cd|");
        assert_eq!(
            sprintf(
                "%05d %+d %x %#x %X",
                &[
                    Value::Int(-42),
                    Value::Int(5),
                    Value::Int(255),
                    Value::Int(255),
                    Value::Uint(255)
                ]
            ),
            "-0042 +5 ff 0xff FF"
        );
        assert_eq!(
            sprintf(
                "%.2f %e %g",
                &[Value::Float(2.71555), Value::Float(1234.5), Value::Float(0.5)]
            ),
            "2.72 1.234500e+03 0.5"
        );
        assert_eq!(
            sprintf("%q %.3s %c %%", &[s("a\"b"), s("abcdef"), Value::Int(65)]),
            "\"a\\\"b\" abc A %"
        );
        assert_eq!(sprintf("%d", &[s("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[s("x")]), "x %!s(MISSING)");
        assert_eq!(sprintf("%s", &[s("x"), Value::Int(1)]), "x%!(EXTRA int64=1)");
        assert_eq!(sprintf("%v", &[Value::List([s("a"), s("b")].into())]), "[a b]");
        assert_eq!(sprintf("%*d", &[Value::Int(4), Value::Int(7)]), "   7");
    }

    #[test]
    fn podman_string_functions() {
        assert_eq!(lower(&[s("AbC")]).unwrap(), s("abc"));
        assert_eq!(upper(&[s("AbC")]).unwrap(), s("ABC"));
        assert_eq!(title(&[s("hello wide-world_x")]).unwrap(), s("Hello Wide-World_x"));
        assert_eq!(join(&[Value::List([s("a"), s("b")].into()), s(",")]).unwrap(), s("a,b"));
        assert_eq!(
            split(&[s("a:b"), s(":")]).unwrap(),
            Value::List([s("a"), s("b")].into())
        );
        assert_eq!(truncate(&[s("abcdef"), Value::Int(3)]).unwrap(), s("abc"));
        assert_eq!(truncate(&[s("ab"), Value::Int(3)]).unwrap(), s("ab"));
        assert_eq!(pad(&[s("x"), Value::Int(1), Value::Int(2)]).unwrap(), s(" x  "));
        assert_eq!(pad(&[s(""), Value::Int(1), Value::Int(2)]).unwrap(), s(""));
        assert_eq!(
            upper(&[Value::Int(1)]).unwrap_err(),
            FuncError::Argument("wrong type for value; expected string; got int64".into())
        );
        assert_eq!(
            json(&[Value::Map(Rc::new(BTreeMap::from([("a".to_owned(), s("<x>"))])))]).unwrap(),
            s(r#"{"a":"<x>"}"#)
        );
    }

    #[test]
    fn builtins() {
        let list = Value::List([s("a"), s("b")].into());
        assert_eq!(len(std::slice::from_ref(&list)).unwrap(), Value::Int(2));
        assert_eq!(index(&[list.clone(), Value::Int(1)]).unwrap(), s("b"));
        assert_eq!(
            index(&[list.clone(), Value::Int(5)]).unwrap_err(),
            FuncError::Call("index out of range: 5".into())
        );
        let map = Value::Map(Rc::new(BTreeMap::from([("k".to_owned(), s("v"))])));
        assert_eq!(index(&[map.clone(), s("k")]).unwrap(), s("v"));
        assert_eq!(index(&[map, s("missing")]).unwrap(), s(""));
        assert_eq!(slice(&[s("hello"), Value::Int(1), Value::Int(3)]).unwrap(), s("el"));
        assert_eq!(
            eq(&[Value::Int(1), Value::Uint(2), Value::Uint(1)]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(lt(&[s("a"), s("b")]).unwrap(), Value::Bool(true));
        assert!(eq(&[Value::Int(1), s("1")]).is_err());
        assert_eq!(
            print(&[Value::Int(1), Value::Int(2), s("x"), Value::Int(3)]).unwrap(),
            s("1 2x3")
        );
        assert_eq!(println(&[s("a"), Value::Int(1)]).unwrap(), s("a 1\n"));
        assert_eq!(
            html(&[s("<a href='x'>&")]).unwrap(),
            s("&lt;a href=&#39;x&#39;&gt;&amp;")
        );
        assert_eq!(js(&[s("a'<")]).unwrap(), s("a\\'\\u003C"));
        assert_eq!(urlquery(&[s("a b&c")]).unwrap(), s("a+b%26c"));
        assert_eq!(not(&[s("")]).unwrap(), Value::Bool(true));
    }
}
