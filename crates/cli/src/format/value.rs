//! The data a template or printer sees: any `serde::Serialize` value,
//! turned into a tree that keeps what Go's reflection would see.
//!
//! A struct keeps its fields in declaration order (Go's `encoding/json` and
//! `{{json .}}` print them so) and knows its type name (for podman's
//! `can't evaluate field X in type T`); a map keeps its keys sorted, as Go
//! iterates and prints maps.
//!
//! Lists, maps and structs are shared (`Rc`): the template engine hands
//! `.`, `$`, variables and `range` items around by cloning values, which
//! then costs a reference count instead of a copy of the data.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// A value as the template engine and the JSON printer see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`, unit, or a nil pointer/slice/map in Go's terms.
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    String(String),
    List(Rc<[Value]>),
    /// A map: keys iterate and print sorted.
    Map(Rc<BTreeMap<String, Value>>),
    /// A struct: fields in declaration order.
    Struct(Rc<Struct>),
}

/// A struct's type name and its serialized fields, in order. Names from
/// serde are the Rust type's own `&'static str`s, borrowed, not copied.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub name: Cow<'static, str>,
    pub fields: Vec<(Cow<'static, str>, Value)>,
}

impl Struct {
    /// The field's value, when the struct has the field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }
}

impl Value {
    /// Go's truth: false, 0, "", empty list or map, and nil are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Uint(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(items) => !items.is_empty(),
            Value::Map(map) => !map.is_empty(),
            Value::Struct(_) => true,
        }
    }

    /// The Go type name podman's messages would show for this value.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_owned(),
            Value::Bool(_) => "bool".to_owned(),
            Value::Int(_) => "int64".to_owned(),
            Value::Uint(_) => "uint64".to_owned(),
            Value::Float(_) => "float64".to_owned(),
            Value::String(_) => "string".to_owned(),
            Value::List(_) => "[]interface {}".to_owned(),
            Value::Map(_) => "map[string]interface {}".to_owned(),
            Value::Struct(s) => s.name.to_string(),
        }
    }

    /// The zero value of the same kind (Go's `index` returns the map's
    /// element zero value for a missing key).
    pub fn zero_like(&self) -> Value {
        match self {
            Value::Bool(_) => Value::Bool(false),
            Value::Int(_) => Value::Int(0),
            Value::Uint(_) => Value::Uint(0),
            Value::Float(_) => Value::Float(0.0),
            Value::String(_) => Value::String(String::new()),
            _ => Value::Nil,
        }
    }
}

/// Go's `%v` formatting, which `{{.Field}}` uses to print a value.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Uint(n) => write!(f, "{n}"),
            Value::Float(x) => f.write_str(&format_float_g(*x, None)),
            Value::String(s) => f.write_str(s),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("map[")?;
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{key}:{item}")?;
                }
                f.write_str("]")
            }
            Value::Struct(s) => {
                f.write_str("{")?;
                for (i, (_, item)) in s.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Splits a finite float into its shortest decimal digits and the decimal
/// exponent of the first digit (`1234.5` -> ("12345", 3)).
fn shortest_digits(x: f64) -> (String, i32) {
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Go's `%e` with the given digits after the point (shortest when `None`).
pub(crate) fn format_float_e(x: f64, precision: Option<usize>) -> String {
    if !x.is_finite() {
        return format_non_finite(x);
    }
    let body = match precision {
        Some(p) => format!("{:.*e}", p, x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mantissa, exponent) = body.split_once('e').unwrap_or((body.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
}

/// Go's `%g` (shortest when `precision` is `None`, as `%v` prints floats).
pub(crate) fn format_float_g(x: f64, precision: Option<usize>) -> String {
    if !x.is_finite() {
        return format_non_finite(x);
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (digits, exponent) = match precision {
        None => shortest_digits(x),
        Some(p) => {
            let sci = format!("{:.*e}", p.max(1) - 1, x.abs());
            let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            (digits.trim_end_matches('0').to_owned(), exponent.parse().unwrap_or(0))
        }
    };
    let digits = if digits.is_empty() { "0".to_owned() } else { digits };
    // Go switches to an exponent from 10^6 on for the shortest form.
    let exponent_limit = match precision {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if exponent < -4 || exponent >= exponent_limit {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}e{exp_sign}{:02}", exponent.abs());
    }
    format!("{sign}{}", place_point(&digits, exponent))
}

/// Writes `digits` (first digit at 10^exponent) as a plain decimal.
fn place_point(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        format!("{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

fn format_non_finite(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x > 0.0 {
        "+Inf".to_owned()
    } else {
        "-Inf".to_owned()
    }
}

/// Why a value could not be turned into a [`Value`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToValueError(String);

impl ser::Error for ToValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ToValueError(msg.to_string())
    }
}

/// Turns any serializable value into a [`Value`].
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ToValueError> {
    value.serialize(ValueSerializer)
}

struct ValueSerializer;

/// Builds a list (sequences, tuples).
struct ListBuilder {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

/// Builds a map; keys are stringified as Go's `encoding/json` does.
struct MapBuilder {
    map: BTreeMap<String, Value>,
    next_key: Option<String>,
}

/// Builds a struct, keeping field order.
struct StructBuilder {
    value: Struct,
    variant: Option<&'static str>,
}

fn wrap_variant(variant: Option<&'static str>, value: Value) -> Value {
    match variant {
        Some(name) => Value::Map(Rc::new(BTreeMap::from([(name.to_owned(), value)]))),
        None => value,
    }
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ToValueError;
    type SerializeSeq = ListBuilder;
    type SerializeTuple = ListBuilder;
    type SerializeTupleStruct = ListBuilder;
    type SerializeTupleVariant = ListBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = StructBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, ToValueError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ToValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ToValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ToValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ToValueError> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ToValueError> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| ToValueError(format!("integer {v} does not fit in 64 bits")))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ToValueError> {
        Ok(Value::Uint(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ToValueError> {
        Ok(Value::Uint(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ToValueError> {
        Ok(Value::Uint(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ToValueError> {
        Ok(Value::Uint(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ToValueError> {
        u64::try_from(v)
            .map(Value::Uint)
            .map_err(|_| ToValueError(format!("integer {v} does not fit in 64 bits")))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ToValueError> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ToValueError> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ToValueError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ToValueError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ToValueError> {
        Ok(Value::List(v.iter().map(|b| Value::Uint((*b).into())).collect()))
    }
    fn serialize_none(self) -> Result<Value, ToValueError> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ToValueError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ToValueError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, ToValueError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        Ok(wrap_variant(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ListBuilder, ToValueError> {
        Ok(ListBuilder {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<ListBuilder, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<ListBuilder, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<ListBuilder, ToValueError> {
        Ok(ListBuilder {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder, ToValueError> {
        Ok(MapBuilder {
            map: BTreeMap::new(),
            next_key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructBuilder, ToValueError> {
        Ok(StructBuilder {
            value: Struct {
                name: Cow::Borrowed(name),
                fields: Vec::with_capacity(len),
            },
            variant: None,
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<StructBuilder, ToValueError> {
        Ok(StructBuilder {
            value: Struct {
                name: Cow::Borrowed(variant),
                fields: Vec::with_capacity(len),
            },
            variant: Some(variant),
        })
    }
}

impl ListBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Value {
        wrap_variant(self.variant, Value::List(self.items.into()))
    }
}

impl ser::SerializeSeq for ListBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for ListBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for ListBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleVariant for ListBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ToValueError> {
        self.next_key = Some(key.serialize(MapKeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| ToValueError("map value serialized before its key".to_owned()))?;
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(Value::Map(Rc::new(self.map)))
    }
}

impl StructBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ToValueError> {
        self.value
            .fields
            .push((Cow::Borrowed(key), value.serialize(ValueSerializer)?));
        Ok(())
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ToValueError> {
        self.push(key, value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(wrap_variant(self.variant, Value::Struct(Rc::new(self.value))))
    }
}

impl ser::SerializeStructVariant for StructBuilder {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ToValueError> {
        self.push(key, value)
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(wrap_variant(self.variant, Value::Struct(Rc::new(self.value))))
    }
}

/// Map keys become strings: strings as they are, numbers and booleans
/// printed, as Go's `encoding/json` writes map keys.
struct MapKeySerializer;

fn key_error() -> ToValueError {
    ToValueError("map key must be a string, a number or a boolean".to_owned())
}

impl ser::Serializer for MapKeySerializer {
    type Ok = String;
    type Error = ToValueError;
    type SerializeSeq = Impossible<String, ToValueError>;
    type SerializeTuple = Impossible<String, ToValueError>;
    type SerializeTupleStruct = Impossible<String, ToValueError>;
    type SerializeTupleVariant = Impossible<String, ToValueError>;
    type SerializeMap = Impossible<String, ToValueError>;
    type SerializeStruct = Impossible<String, ToValueError>;
    type SerializeStructVariant = Impossible<String, ToValueError>;

    fn serialize_bool(self, v: bool) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<String, ToValueError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, ToValueError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, ToValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, ToValueError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, ToValueError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, ToValueError> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ToValueError> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ToValueError> {
        Err(key_error())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, ToValueError> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ToValueError> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ToValueError> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, ToValueError> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ToValueError> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Row {
        zeta: u32,
        alpha: String,
        labels: HashMap<String, String>,
        ports: Option<Vec<u16>>,
    }

    #[test]
    fn struct_keeps_field_order_and_map_sorts_keys() {
        let row = Row {
            zeta: 1,
            alpha: "a".into(),
            labels: HashMap::from([("b".to_owned(), "2".to_owned()), ("a".to_owned(), "1".to_owned())]),
            ports: None,
        };
        let Value::Struct(s) = to_value(&row).unwrap() else {
            panic!("a struct must become Value::Struct");
        };
        assert_eq!(s.name, "Row");
        let names: Vec<&str> = s.fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["Zeta", "Alpha", "Labels", "Ports"]);
        let Some(Value::Map(labels)) = s.field("Labels") else {
            panic!("a HashMap must become Value::Map");
        };
        assert_eq!(labels.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(s.field("Ports"), Some(&Value::Nil));
    }

    #[test]
    fn display_is_go_percent_v() {
        let v = Value::List([Value::String("a".into()), Value::Int(2), Value::Nil].into());
        assert_eq!(v.to_string(), "[a 2 <nil>]");
        let m = Value::Map(Rc::new(BTreeMap::from([("k".to_owned(), Value::Bool(true))])));
        assert_eq!(m.to_string(), "map[k:true]");
        let s = Value::Struct(Rc::new(Struct {
            name: "T".into(),
            fields: vec![("A".into(), Value::Uint(1)), ("B".into(), Value::String("x".into()))],
        }));
        assert_eq!(s.to_string(), "{1 x}");
    }

    #[test]
    fn floats_print_as_go() {
        assert_eq!(Value::Float(1.0).to_string(), "1");
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
        assert_eq!(Value::Float(1e6).to_string(), "1e+06");
        assert_eq!(Value::Float(123456.0).to_string(), "123456");
        assert_eq!(Value::Float(1234567.0).to_string(), "1.234567e+06");
        assert_eq!(Value::Float(0.0001).to_string(), "0.0001");
        assert_eq!(Value::Float(0.00001).to_string(), "1e-05");
        assert_eq!(Value::Float(-2.5).to_string(), "-2.5");
        assert_eq!(format_float_e(1234.5, Some(2)), "1.23e+03");
        assert_eq!(format_float_g(1234.5, Some(3)), "1.23e+03");
        assert_eq!(format_float_g(1234.5, Some(6)), "1234.5");
    }

    #[test]
    fn enums_and_keys() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
        }
        assert_eq!(to_value(&E::Unit).unwrap(), Value::String("Unit".into()));
        assert_eq!(
            to_value(&E::New(3)).unwrap(),
            Value::Map(Rc::new(BTreeMap::from([("New".to_owned(), Value::Uint(3))])))
        );
        let numeric_keys = BTreeMap::from([(10u16, "x")]);
        assert_eq!(
            to_value(&numeric_keys).unwrap(),
            Value::Map(Rc::new(BTreeMap::from([("10".to_owned(), Value::String("x".into()))])))
        );
        assert!(to_value(&HashMap::from([(vec![1u8], 1u8)])).is_err());
    }
}
