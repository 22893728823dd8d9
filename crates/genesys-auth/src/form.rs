//! `application/x-www-form-urlencoded`, as URL queries and token request bodies use it (WHATWG URL, "urlencoded").
//!
//! Written here rather than taken from the `form_urlencoded` crate: this is all the flow needs, and it keeps the
//! browser bundle free of the crate's 768-byte escape table and lossy UTF-8 decoder. Property tests check it
//! against `form_urlencoded`.

/// Builds `name=value&name=value`, escaping as HTML forms do (space as `+`).
#[derive(Debug, Default)]
pub struct Form(String);

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Form(String::new())
    }

    /// Adds one pair.
    pub fn append_pair(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_into(&mut self.0, name);
        self.0.push('=');
        encode_into(&mut self.0, value);
        self
    }

    /// The encoded text.
    pub fn finish(&mut self) -> String {
        core::mem::take(&mut self.0)
    }
}

/// Appends `text` escaped: ASCII letters, digits and `*-._` stay, space becomes `+`, every other byte `%XX`.
pub fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// `text` escaped (see [`encode_into`]).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    encode_into(&mut out, text);
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One name or value decoded: `+` is a space, `%XX` a byte; a `%` without two hex digits stays as it is.
/// Bytes that do not form UTF-8 make the whole value the replacement character U+FFFD (it then matches nothing).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escaped = match (b, bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => Some(hi << 4 | lo),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| char::REPLACEMENT_CHARACTER.into())
}

/// The pairs of a query or form body, decoded, in order; empty pieces (`a=1&&b=2`) are skipped, a piece without
/// `=` is a name with an empty value.
pub fn parse(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|piece| !piece.is_empty()).map(|piece| {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        (decode(name), decode(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let text = Form::new().append_pair("a b", "c&d=e").append_pair("ü", "%+").finish();
        assert_eq!(text, "a+b=c%26d%3De&%C3%BC=%25%2B");
        let back: Vec<(String, String)> = parse(&text).collect();
        assert_eq!(back, [("a b".into(), "c&d=e".into()), ("ü".into(), "%+".into())]);
    }

    #[test]
    fn odd_input_decodes_without_loss_of_control() {
        let got: Vec<(String, String)> = parse("&x&=v&%zz=%4&%FF=1&k=a=b").collect();
        assert_eq!(
            got,
            [
                ("x".into(), String::new()),
                (String::new(), "v".into()),
                ("%zz".into(), "%4".into()),
                ("\u{FFFD}".into(), "1".into()),
                ("k".into(), "a=b".into()),
            ]
        );
    }

    #[test]
    fn encode_escapes_one_text() {
        assert_eq!(encode("a b&c=d/é~*-._"), "a+b%26c%3Dd%2F%C3%A9%7E*-._");
        assert_eq!(decode(&encode("x y%z")), "x y%z");
        assert_eq!(encode(""), "");
    }
}
