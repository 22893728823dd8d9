//! A small, strict JSON reader for the token endpoint's answers.
//!
//! Why not serde_json: it added ≈ 28 KB gzipped to a minimal browser module in the toolchain measurements, and the core only needs to read
//! a flat object. This reader is total: any byte sequence yields a value or `None`, never a panic (fuzzed and
//! property-tested), with a depth limit against stack exhaustion.

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as its text: the token endpoint's numbers are integers, and parsing floats would add the
    /// float-parsing tables to the browser bundle. See [`Json::as_i64`].
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order; a key may occur once (a document repeating one is refused, as callbacks
    /// repeating a parameter are: readers disagree on which copy counts).
    Object(Vec<(String, Json)>),
}

/// Wipes every string and number of a value in place (a token answer's `access_token` and `refresh_token` must
/// not stay readable in freed memory: the browser's wasm memory can be read by any script of the page). Parse a
/// secret-bearing document into `zeroize::Zeroizing<Json>` to have it wiped when dropped.
impl zeroize::Zeroize for Json {
    fn zeroize(&mut self) {
        match self {
            Json::Number(s) | Json::String(s) => s.zeroize(),
            Json::Array(items) => items.iter_mut().for_each(Json::zeroize),
            Json::Object(members) => members.iter_mut().for_each(|(_, v)| v.zeroize()),
            Json::Null | Json::Bool(_) => {}
        }
    }
}

const MAX_DEPTH: usize = 32;
/// Members of one object at most (token answers have about ten): keeps the duplicate check cheap.
const MAX_MEMBERS: usize = 256;

impl Json {
    /// Parses a whole document; `None` for anything that is not exactly one JSON value (plus whitespace).
    pub fn parse(input: &[u8]) -> Option<Json> {
        let mut p = Parser { s: input, i: 0 };
        let v = p.value(0)?;
        p.ws();
        (p.i == input.len()).then_some(v)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number written as an integer that fits an `i64` (`3600`, `-5`; not `3600.0`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) => match n.strip_prefix('-') {
                Some(magnitude) => crate::parse_decimal(magnitude).and_then(|m| 0i64.checked_sub_unsigned(m)),
                None => crate::parse_decimal(n).and_then(|m| i64::try_from(m).ok()),
            },
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + lit.len())? == lit {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'n' => self.eat(b"null").map(|_| Json::Null),
            b't' => self.eat(b"true").map(|_| Json::Bool(true)),
            b'f' => self.eat(b"false").map(|_| Json::Bool(false)),
            b'"' => self.string().map(Json::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Json::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(Json::Object(members));
                }
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key = self.string()?;
                    if members.len() >= MAX_MEMBERS || members.iter().any(|(k, _)| *k == key) {
                        return None;
                    }
                    self.ws();
                    self.eat(b":")?;
                    members.push((key, self.value(depth + 1)?));
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Json::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        // Only ASCII digits, sign, '.', 'e' were consumed, so this is valid UTF-8.
        let text = core::str::from_utf8(&self.s[start..self.i]).ok()?;
        Some(Json::Number(text.to_string()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let mut n = 0u32;
        for &c in h {
            n = n * 16 + char::from(c).to_digit(16)?;
        }
        self.i += 4;
        Some(n)
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(core::str::from_utf8(&self.s[start..self.i]).ok()?);
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.i += 1;
                    let esc = self.peek()?;
                    self.i += 1;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    out.push(c);
                }
                _ => return None, // control character
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_token_response() {
        let v = Json::parse(br#" {"access_token":"a\"b","expires_in":86400,"x":[1,-2.5e3,true,null,{}]} "#);
        let v = v.unwrap_or(Json::Null);
        assert_eq!(v.get("access_token").and_then(Json::as_str), Some("a\"b"));
        assert_eq!(v.get("expires_in").and_then(Json::as_i64), Some(86400));
        assert_eq!(Json::parse(b"-2.5e3").and_then(|n| n.as_i64()), None);
        assert_eq!(Json::parse(b"-25").and_then(|n| n.as_i64()), Some(-25));
    }

    #[test]
    fn unescapes_unicode_and_surrogates() {
        let v = Json::parse(br#""\u00e9\ud83d\ude00""#);
        assert_eq!(v, Some(Json::String("é😀".into())));
    }

    #[test]
    fn unescapes_every_short_escape() {
        let v = Json::parse(br#""\"\\\/\b\f\n\r\t""#);
        assert_eq!(v, Some(Json::String("\"\\/\u{8}\u{c}\n\r\t".into())));
        // Each one alone, so that a lost arm is named by the failure.
        for (esc, want) in
            [("\\/", "/"), ("\\b", "\u{8}"), ("\\f", "\u{c}"), ("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t")]
        {
            let text = format!("\"a{esc}z\"");
            assert_eq!(Json::parse(text.as_bytes()), Some(Json::String(format!("a{want}z"))), "{esc}");
        }
        assert_eq!(Json::parse(br#""\x""#), None);
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":1",
            b"{\"a\":1}}",
            b"<html>502 Bad Gateway</html>",
            b"01",
            b"1.",
            b"-",
            b"\"\\ud800\"",
            b"\"\x01\"",
            b"[1,]",
            b"{\"a\" 1}",
            b"\"\xff\"",
        ] {
            assert_eq!(Json::parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(Json::parse(deep.as_bytes()), None);
        let ok = format!("{}{}", "[".repeat(20), "]".repeat(20));
        assert!(Json::parse(ok.as_bytes()).is_some());
    }

    #[test]
    fn nesting_is_bounded_exactly_and_for_objects_too() {
        let arrays = |k: usize| format!("{}{}", "[".repeat(k), "]".repeat(k));
        assert!(Json::parse(arrays(MAX_DEPTH + 1).as_bytes()).is_some());
        assert_eq!(Json::parse(arrays(MAX_DEPTH + 2).as_bytes()), None);
        let objects = |k: usize| format!("{}1{}", "{\"a\":".repeat(k), "}".repeat(k));
        assert!(Json::parse(objects(MAX_DEPTH).as_bytes()).is_some());
        assert_eq!(Json::parse(objects(MAX_DEPTH + 1).as_bytes()), None);
        assert_eq!(Json::parse(objects(100_000).as_bytes()), None, "refused, not a stack overflow");
    }

    #[test]
    fn numbers_with_zero_and_signed_exponents() {
        assert_eq!(Json::parse(b"0").and_then(|n| n.as_i64()), Some(0));
        assert_eq!(
            Json::parse(b"[0,10]"),
            Some(Json::Array(vec![Json::Number("0".into()), Json::Number("10".into())]))
        );
        for n in ["1e+5", "2E-3", "-0.5e-1", "0e0"] {
            assert_eq!(Json::parse(n.as_bytes()), Some(Json::Number(n.into())), "{n}");
        }
        assert_eq!(Json::parse(b"1e+"), None);
    }
}
