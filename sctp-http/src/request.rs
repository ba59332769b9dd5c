//! The requests `get` sends (sans-I/O): method, head and body from the
//! command line's `-X`, `-I`, `-H`, `-d` and `--data-binary`, in curl's
//! manner.

use crate::url::Url;

/// Largest request body accepted (`-d`, `--data-binary`, `@FILE` included).
pub const MAX_BODY: usize = 64 << 20;

/// What every request of one `get` looks like; only the URL differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: String,
    /// `-H` values as given.
    pub headers: Vec<String>,
    pub body: Option<Vec<u8>>,
}

/// Is `s` an HTTP token (a method or a header name)?
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl RequestSpec {
    /// The method as curl picks it: `-X` if given, else HEAD for `-I`,
    /// POST with a body, GET otherwise. Bad methods and headers (not
    /// tokens, line breaks) are refused, so that nothing a user types can
    /// split the request.
    pub fn new(
        method: Option<&str>,
        head: bool,
        headers: Vec<String>,
        body: Option<Vec<u8>>,
    ) -> Result<RequestSpec, String> {
        let method = match method {
            Some(m) if is_token(m) => m.to_string(),
            Some(m) => return Err(format!("-X {m:?}: not a method")),
            None if head => "HEAD".into(),
            None if body.is_some() => "POST".into(),
            None => "GET".into(),
        };
        for h in &headers {
            let name = h.split([':', ';']).next().unwrap_or("");
            let sep = h.as_bytes().get(name.len());
            if !is_token(name) || sep.is_none() || h.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(format!("-H {h:?}: want 'Name: value'"));
            }
        }
        if body.as_ref().is_some_and(|b| b.len() > MAX_BODY) {
            return Err(format!("request body larger than {MAX_BODY} bytes"));
        }
        Ok(RequestSpec {
            method,
            headers,
            body,
        })
    }

    /// A HEAD request: its response has no body whatever it announces.
    pub fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    /// The request head for `url`, blank line included. Fields sctp-http
    /// sends itself (Host, User-Agent, and with a body Content-Type and
    /// Content-Length) give way to a `-H` of the same name; `-H 'Name:'`
    /// with no value only removes, `-H 'Name;'` sends the field empty.
    pub fn head(&self, url: &Url) -> String {
        let mut own: Vec<(&str, String)> = vec![
            ("Host", url.host_header()),
            (
                "User-Agent",
                format!("sctp-http/{}", env!("CARGO_PKG_VERSION")),
            ),
        ];
        if let Some(b) = &self.body {
            own.push(("Content-Type", "application/x-www-form-urlencoded".into()));
            own.push(("Content-Length", b.len().to_string()));
        }
        let mut user = Vec::new();
        for h in &self.headers {
            let name = h.split([':', ';']).next().unwrap_or("");
            own.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            match h.as_bytes().get(name.len()) {
                Some(b';') => user.push(format!("{name}:")),
                _ if h.get(name.len() + 1..).unwrap_or("").trim().is_empty() => {}
                _ => user.push(h.clone()),
            }
        }
        let mut s = format!("{} {} HTTP/1.1\r\n", self.method, url.target);
        for (n, v) in own {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        for h in user {
            s.push_str(&h);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s
    }

    /// The whole request for `url`: head and body.
    pub fn bytes(&self, url: &Url) -> Vec<u8> {
        let mut b = self.head(url).into_bytes();
        if let Some(body) = &self.body {
            b.extend_from_slice(body);
        }
        b
    }
}

/// Joins body pieces as curl does: several `-d` are joined with `&`;
/// `strip` says, per piece, to drop CR and LF (`-d @FILE`).
pub fn join_body(pieces: &[(Vec<u8>, bool)]) -> Option<Vec<u8>> {
    if pieces.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (i, (p, strip)) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend(p.iter().filter(|&&b| !*strip || (b != b'\r' && b != b'\n')));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("http://h:8080/p?q=1").unwrap()
    }

    const UA: &str = concat!("User-Agent: sctp-http/", env!("CARGO_PKG_VERSION"), "\r\n");

    #[test]
    fn plain_get_is_unchanged() {
        let r = RequestSpec::new(None, false, vec!["X-A: 1".into()], None).unwrap();
        assert_eq!(
            r.head(&url()),
            format!("GET /p?q=1 HTTP/1.1\r\nHost: h:8080\r\n{UA}X-A: 1\r\n\r\n")
        );
        assert!(!r.is_head());
        assert_eq!(r.bytes(&url()), r.head(&url()).into_bytes());
    }

    #[test]
    fn head_flag_sends_head() {
        let r = RequestSpec::new(None, true, vec![], None).unwrap();
        assert!(r.is_head());
        assert!(r.head(&url()).starts_with("HEAD /p?q=1 HTTP/1.1\r\n"));
        // -X HEAD is a HEAD request too (its response has no body).
        let r = RequestSpec::new(Some("HEAD"), false, vec![], None).unwrap();
        assert!(r.is_head());
    }

    #[test]
    fn x_sets_the_method() {
        let r = RequestSpec::new(Some("DELETE"), false, vec![], None).unwrap();
        assert!(r.head(&url()).starts_with("DELETE /p?q=1 HTTP/1.1\r\n"));
        // -X wins over -I and -d.
        let r = RequestSpec::new(Some("PUT"), false, vec![], Some(b"x".to_vec())).unwrap();
        assert!(r.head(&url()).starts_with("PUT "));
        for bad in ["", "GET /x", "G\r\nX", "a:b"] {
            assert!(
                RequestSpec::new(Some(bad), false, vec![], None).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn data_posts_with_content_length() {
        let r = RequestSpec::new(None, false, vec![], Some(b"a=1&b=2".to_vec())).unwrap();
        let b = r.bytes(&url());
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!(
                "POST /p?q=1 HTTP/1.1\r\nHost: h:8080\r\n{UA}\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2"
            )
        );
        // An empty body is still a POST with Content-Length: 0.
        let r = RequestSpec::new(None, false, vec![], Some(vec![])).unwrap();
        assert!(r.head(&url()).contains("Content-Length: 0\r\n"));
        assert!(r.head(&url()).starts_with("POST "));
        // Binary bodies go out byte for byte.
        let r = RequestSpec::new(None, false, vec![], Some(vec![0, 13, 10, 255])).unwrap();
        assert!(r
            .bytes(&url())
            .ends_with(b"Content-Length: 4\r\n\r\n\x00\r\n\xff"));
        let big = vec![0u8; MAX_BODY + 1];
        assert!(RequestSpec::new(None, false, vec![], Some(big)).is_err());
    }

    #[test]
    fn user_headers_replace_remove_or_empty_ours() {
        let r = RequestSpec::new(
            None,
            false,
            vec![
                "content-type: application/json".into(),
                "User-Agent:".into(),
                "X-Empty;".into(),
                "Host: other".into(),
            ],
            Some(b"{}".to_vec()),
        )
        .unwrap();
        assert_eq!(
            r.head(&url()),
            "POST /p?q=1 HTTP/1.1\r\nContent-Length: 2\r\ncontent-type: application/json\r\n\
X-Empty:\r\nHost: other\r\n\r\n"
        );
        for bad in ["NoSeparator", ": v", "A B: v", "X: a\r\nEvil: 1", "X: a\nb"] {
            assert!(
                RequestSpec::new(None, false, vec![bad.into()], None).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bodies_join_like_curl() {
        assert_eq!(join_body(&[]), None);
        assert_eq!(
            join_body(&[
                (b"a=1".to_vec(), false),
                (b"b=2\r\nc\n".to_vec(), true),
                (b"x\ny".to_vec(), false)
            ]),
            Some(b"a=1&b=2c&x\ny".to_vec())
        );
    }
}
