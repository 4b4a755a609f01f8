//! JSON read the way dockerd reads it, so that what the proxy checks is
//! what dockerd will act on.
//!
//! dockerd decodes request bodies with Go's `encoding/json` into structs.
//! That decoder matches object keys to struct fields case-insensitively,
//! with Unicode simple folding (`ſ` U+017F matches `s`, `K` U+212A matches
//! `k`), after unescaping (`"Privil\u0065ged"` is `Privileged`); when a key
//! appears twice (or in two spellings) the last one wins; and it reads only
//! the first JSON value of the body, ignoring whatever follows. A checker
//! that reads keys byte-exactly or keeps the first duplicate can be walked
//! around with any of these.
//!
//! So the body is parsed here into an ordered tree, and everything that
//! could be read two ways is refused instead of guessed: two keys of one
//! object that fold to the same name, data after the first value, invalid
//! UTF-8 and lone surrogates (Go would substitute U+FFFD), nesting deeper
//! than [`MAX_DEPTH`]. The proxy then forwards [`Value::to_bytes`], the
//! canonical form of what it checked, never the client's bytes.
//!
//! Why not serde_json: its `Value` keeps only one of duplicate keys and
//! (without a workspace-wide feature that would change every other JSON
//! map in dockward) sorts them, and it turns numbers into f64/i64, so
//! `1e3` would be re-sent as `1000.0`, which Go refuses for an int field.
//! Numbers are kept here as their exact source text.

/// Deeper bodies are refused; Docker's own bodies nest a few levels.
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's source text, validated against RFC 8259's grammar.
    Number(String),
    String(String),
    Array(Vec<Self>),
    /// Keys unescaped, in source order; no two fold to the same name.
    Object(Vec<(String, Self)>),
}

/// Why a body was refused, with the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Go's simple case folding, reduced to what can match an ASCII field
/// name: ASCII letters by case, plus the two non-ASCII letters whose
/// folding orbit contains an ASCII letter.
pub fn fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{017F}' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl Value {
    /// The member of an object whose key folds to `name`, as Go would
    /// match a struct field.
    pub fn get(&self, name: &str) -> Option<&Self> {
        let want = fold(name);
        match self {
            Self::Object(m) => m.iter().find(|(k, _)| fold(k) == want).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Self] {
        match self {
            Self::Array(a) => a,
            _ => &[],
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Compact JSON of this value: the canonical bytes forwarded upstream.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Bool(true) => out.extend_from_slice(b"true"),
            Self::Bool(false) => out.extend_from_slice(b"false"),
            Self::Number(n) => out.extend_from_slice(n.as_bytes()),
            Self::String(s) => write_str(s, out),
            Self::Array(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            Self::Object(m) => {
                out.push(b'{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(k, out);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err<T>(&self, msg: &str) -> Result<T, JsonError> {
        Err(JsonError {
            offset: self.i,
            message: msg.to_string(),
        })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8], v: Value) -> Result<Value, JsonError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("invalid literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'n') => self.lit(b"null", Value::Null),
            Some(b't') => self.lit(b"true", Value::Bool(true)),
            Some(b'f') => self.lit(b"false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Array(a));
                        }
                        _ => return self.err("expected , or ]"),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m: Vec<(String, Value)> = Vec::new();
                // A set: a body of many keys must not cost quadratic time.
                let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return self.err("expected a key");
                    }
                    let at = self.i;
                    let k = self.string()?;
                    let f = fold(&k);
                    if !seen.insert(f) {
                        return Err(JsonError {
                            offset: at,
                            message: format!("key {k:?} appears twice (keys match case-insensitively, the last one wins in dockerd)"),
                        });
                    }
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return self.err("expected :");
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return self.err("expected , or }"),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
            None => self.err("unexpected end"),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        let text =
            std::str::from_utf8(self.b.get(start..self.i).unwrap_or_default()).unwrap_or_default();
        Ok(Value::Number(text.to_string()))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(h) = self.b.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        let s = std::str::from_utf8(h)
            .ok()
            .filter(|s| s.bytes().all(|c| c.is_ascii_hexdigit()));
        let Some(n) = s.and_then(|s| u32::from_str_radix(s, 16).ok()) else {
            return self.err("invalid \\u escape");
        };
        self.i += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let chunk = self.b.get(start..self.i).unwrap_or_default();
            match std::str::from_utf8(chunk) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    self.i = start + e.valid_up_to();
                    return self.err("invalid UTF-8 (dockerd would read U+FFFD)");
                }
            }
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(&e) = self.b.get(self.i) else {
                        return self.err("unterminated string");
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return self.err("lone surrogate (dockerd would read U+FFFD)");
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return self.err("lone surrogate (dockerd would read U+FFFD)");
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(c) {
                                Some(ch) => out.push(ch),
                                None => {
                                    return self.err("lone surrogate (dockerd would read U+FFFD)")
                                }
                            }
                        }
                        _ => return self.err("invalid escape"),
                    }
                }
                Some(_) => return self.err("control character in string"),
                None => return self.err("unterminated string"),
            }
        }
    }
}

/// Parses a whole body: exactly one JSON value, surrounded by nothing but
/// whitespace.
pub fn parse(body: &[u8]) -> Result<Value, JsonError> {
    let mut p = Parser { b: body, i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != body.len() {
        return p.err("data after the first JSON value (dockerd would ignore it)");
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_field_matching() {
        let v = parse(br#"{"hostconfig": {"PRIVILEGED": true}}"#).unwrap();
        assert_eq!(
            v.get("HostConfig").and_then(|h| h.get("Privileged")),
            Some(&Value::Bool(true))
        );
        // U+017F and U+212A fold to s and k, as in Go.
        let v = parse(
            "{\"HostConfig\":{\"Privileged\":true,\"CapAdd\":[\"x\"],\"\u{017F}ecurityOpt\":[]}}"
                .as_bytes(),
        )
        .unwrap();
        assert!(v.get("HostConfig").unwrap().get("SecurityOpt").is_some());
        let v = parse("{\"\u{212A}ey\":1}".as_bytes()).unwrap();
        assert!(v.get("key").is_some());
        // Escaped keys are keys.
        let v = parse(br#"{"Privil\u0065ged": true}"#).unwrap();
        assert_eq!(v.get("Privileged"), Some(&Value::Bool(true)));
    }

    #[test]
    fn ambiguity_is_refused() {
        for body in [
            &br#"{"Privileged": false, "privileged": true}"#[..],
            br#"{"Privileged": false, "Privileged": true}"#,
            "{\"a\u{017F}\":1,\"AS\":2}".as_bytes(),
            br#"{"Image": "x"} {"HostConfig": {"Privileged": true}}"#,
            br#"{"Image": "x"}garbage"#,
            b"{\"Image\": \"\xff\"}",
            br#"{"Image": "\ud800"}"#,
            br#"{"Image": "\ud800\u0041"}"#,
            br#"{"a":1,}"#,
            br#"[1 2]"#,
            b"",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":\"x\ny\"}",
        ] {
            assert!(parse(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn canonical_bytes_keep_order_and_numbers() {
        let v = parse(b" {\"b\": 1e3, \"a\": [-0.5, true, null], \"s\": \"\\u00e9\\n\\\"\"} \n")
            .unwrap();
        assert_eq!(
            String::from_utf8(v.to_bytes()).unwrap(),
            "{\"b\":1e3,\"a\":[-0.5,true,null],\"s\":\"\u{e9}\\n\\\"\"}"
        );
        assert_eq!(parse(&v.to_bytes()).unwrap(), v);
        let v = parse(br#"{"e":"\ud83d\ude00"}"#).unwrap();
        assert_eq!(v.get("e").and_then(Value::as_str), Some("\u{1F600}"));
    }
}
