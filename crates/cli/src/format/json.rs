//! JSON printed the way podman prints it.
//!
//! podman 4.3 writes JSON through two libraries with visible differences:
//! `inspect` uses Go's `encoding/json` (5-space indent, `<>&` left as they
//! are, `{}` for an empty object), while `ps`, `pod ps`, `images`,
//! `volume ls`, `info` and `version` use json-iterator (HTML characters
//! escaped as `\u003c`, and an empty object opened on its own line). Each
//! [`JsonStyle`] constant is one of those layouts.

use super::value::{Value, to_value};
use super::{FormatError, value::format_float_e};
use serde::Serialize;

/// How an empty object is written in indented output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyObject {
    /// `{}` (Go's `encoding/json`).
    Braces,
    /// `{`, a line holding only the inner indent, then `}` (json-iterator).
    OpenLine,
}

/// One of podman's JSON layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStyle {
    /// Indent per level; empty for compact output.
    pub indent: &'static str,
    /// Escape `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026`.
    pub escape_html: bool,
    pub empty_object: EmptyObject,
}

impl JsonStyle {
    /// `podman inspect` (and `pod inspect`, `volume inspect`, ...).
    pub const INSPECT: JsonStyle = JsonStyle {
        indent: "     ",
        escape_html: false,
        empty_object: EmptyObject::Braces,
    };
    /// `ps`, `pod ps`, `volume ls`, `network ls`, `info --format json`.
    pub const LIST: JsonStyle = JsonStyle {
        indent: "  ",
        escape_html: true,
        empty_object: EmptyObject::OpenLine,
    };
    /// `images --format json`.
    pub const IMAGES: JsonStyle = JsonStyle {
        indent: "    ",
        escape_html: true,
        empty_object: EmptyObject::OpenLine,
    };
    /// One line, HTML escaped (`version --format json`).
    pub const COMPACT: JsonStyle = JsonStyle {
        indent: "",
        escape_html: true,
        empty_object: EmptyObject::Braces,
    };
    /// One line, nothing escaped beyond JSON's needs: the template `json` function.
    pub const TEMPLATE: JsonStyle = JsonStyle {
        indent: "",
        escape_html: false,
        empty_object: EmptyObject::Braces,
    };
}

/// `data` as JSON in `style`, followed by a newline, as podman prints it.
pub fn to_json_line<T: Serialize + ?Sized>(data: &T, style: JsonStyle) -> Result<String, FormatError> {
    let mut out = write_json(&to_value(data)?, style);
    out.push('\n');
    Ok(out)
}

/// `value` as JSON in `style`, without a trailing newline.
pub fn write_json(value: &Value, style: JsonStyle) -> String {
    let mut writer = JsonWriter {
        out: String::new(),
        style,
    };
    writer.value(value, 0);
    writer.out
}

struct JsonWriter {
    out: String,
    style: JsonStyle,
}

impl JsonWriter {
    fn compact(&self) -> bool {
        self.style.indent.is_empty()
    }

    fn newline(&mut self, depth: usize) {
        if !self.compact() {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(self.style.indent);
            }
        }
    }

    fn value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => self.out.push_str(&n.to_string()),
            Value::Uint(n) => self.out.push_str(&n.to_string()),
            Value::Float(f) => self.out.push_str(&json_float(*f)),
            Value::String(s) => self.string(s),
            Value::List(items) => {
                if items.is_empty() {
                    self.out.push_str("[]");
                    return;
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1);
                }
                self.newline(depth);
                self.out.push(']');
            }
            Value::Map(map) => self.object(map.iter().map(|(k, v)| (k.as_str(), v)), map.is_empty(), depth),
            Value::Struct(s) => self.object(
                s.fields.iter().map(|(k, v)| (k.as_ref(), v)),
                s.fields.is_empty(),
                depth,
            ),
        }
    }

    fn object<'a>(&mut self, entries: impl Iterator<Item = (&'a str, &'a Value)>, empty: bool, depth: usize) {
        if empty && (self.compact() || self.style.empty_object == EmptyObject::Braces) {
            self.out.push_str("{}");
            return;
        }
        self.out.push('{');
        if empty {
            self.newline(depth + 1);
        }
        for (i, (key, item)) in entries.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.string(key);
            self.out.push(':');
            if !self.compact() {
                self.out.push(' ');
            }
            self.value(item, depth + 1);
        }
        self.newline(depth);
        self.out.push('}');
    }

    /// Go's string escaping (Go 1.19: only `\n`, `\r`, `\t` have short forms).
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '<' | '>' | '&' if self.style.escape_html => self.out.push_str(&format!("\\u{:04x}", c as u32)),
                '\u{2028}' | '\u{2029}' => self.out.push_str(&format!("\\u{:04x}", c as u32)),
                c if (c as u32) < 0x20 => self.out.push_str(&format!("\\u{:04x}", c as u32)),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// Go's `encoding/json` float: plain decimal between 1e-6 and 1e21,
/// exponent form outside (`1e+21`, `1e-7`).
fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format_float_e(f, None);
        // Go trims a leading zero from a negative two-digit exponent.
        return match e.split_once("e-0") {
            Some((mantissa, digit)) => format!("{mantissa}e-{digit}"),
            None => e,
        };
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    fn obj(fields: Vec<(&'static str, Value)>) -> Value {
        Value::Struct(Rc::new(super::super::value::Struct {
            name: "T".into(),
            fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }))
    }

    #[test]
    fn compact_and_escapes() {
        let v = obj(vec![
            ("B", Value::String("<a&b>\"\n\u{1}".into())),
            ("A", Value::List([Value::Int(1), Value::Nil].into())),
            ("E", Value::Map(Rc::new(BTreeMap::new()))),
        ]);
        assert_eq!(
            write_json(&v, JsonStyle::TEMPLATE),
            r#"{"B":"<a&b>\"\n\u0001","A":[1,null],"E":{}}"#
        );
        assert_eq!(
            write_json(&v, JsonStyle::COMPACT),
            r#"{"B":"\u003ca\u0026b\u003e\"\n\u0001","A":[1,null],"E":{}}"#
        );
    }

    #[test]
    fn indented_empty_object_styles() {
        let v = Value::List(
            [obj(vec![
                ("Namespaces", Value::Map(Rc::new(BTreeMap::new()))),
                ("Empty", Value::List(Rc::new([]))),
            ])]
            .into(),
        );
        assert_eq!(
            write_json(&v, JsonStyle::LIST),
            "[\n  {\n    \"Namespaces\": {\n      \n    },\n    \"Empty\": []\n  }\n]"
        );
        assert_eq!(
            write_json(&v, JsonStyle::INSPECT),
            "[\n     {\n          \"Namespaces\": {},\n          \"Empty\": []\n     }\n]"
        );
    }

    #[test]
    fn floats_as_go_json() {
        assert_eq!(json_float(1.0), "1");
        assert_eq!(json_float(0.25), "0.25");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(-1.5e-12), "-1.5e-12");
        assert_eq!(json_float(123456789.0), "123456789");
    }
}
