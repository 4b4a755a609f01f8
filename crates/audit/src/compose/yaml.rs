//! A YAML node tree with line:column on every node, read with serde-saphyr
//! (maintained, YAML 1.2, anchors and `<<` merge keys resolved, limits
//! against alias bombs; serde_yaml is deprecated). Each node keeps where it
//! is used (`line`, `column`; for a merged or aliased value, the `<<: *x` or
//! `*x` site) and where it was defined (`def_line`), so a finding points at
//! the service that inherits the value and an ignore comment can sit at
//! either place.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
    pub def_line: u32,
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<Value>::deserialize(d)?;
        Ok(Self {
            value: s.value,
            line: clamp(s.referenced.line()),
            column: clamp(s.referenced.column()),
            def_line: clamp(s.defined.line()),
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Value::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(k) = a.next_key::<Node>()? {
            let val = a.next_value::<Node>()?;
            v.push((k, val));
        }
        Ok(Value::Map(v))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Parses one YAML document. Errors carry 1-based line and column (0 when
/// unknown) and a message without a source snippet, so no value leaks.
pub(crate) fn parse(text: &str) -> Result<Node, (u32, u32, String)> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let (line, col) = e
            .location()
            .map_or((0, 0), |l| (clamp(l.line()), clamp(l.column())));
        let msg = e.to_string();
        // The first line is the parser's sentence; anything after it may quote input.
        let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
        (line, col, first)
    })
}

impl Node {
    /// The value at `key` of a mapping, with its key node.
    pub(super) fn get(&self, key: &str) -> Option<(&Self, &Self)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.scalar().as_deref() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// A scalar as text (numbers and booleans as YAML writes them).
    pub(super) fn scalar(&self) -> Option<String> {
        match &self.value {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    pub(super) fn items(&self) -> &[Self] {
        match &self.value {
            Value::Seq(v) => v,
            _ => &[],
        }
    }

    pub(super) fn entries(&self) -> &[(Self, Self)] {
        match &self.value {
            Value::Map(v) => v,
            _ => &[],
        }
    }
}
