//! The CGI response a FastCGI responder writes to FCGI_STDOUT: header lines,
//! an empty line, the body. Sans-I/O: [`HeaderSplit`] takes STDOUT pieces
//! as they arrive and gives back the header block once it is complete
//! (httpd parses it, with the same rules as for CGI scripts) and the body
//! bytes that came with it. The header block is bounded.

/// Largest header block accepted (as httpd's default LimitRequestFieldSize
/// times a generous number of fields).
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// The empty line has not arrived yet.
    NeedMore,
    /// The header block, up to and including the empty line that ends it
    /// (as httpd's CGI header scanner reads it), and the first body bytes.
    Done { header: Vec<u8>, body: Vec<u8> },
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderError {
    TooLarge,
    /// A NUL byte in the header block.
    Nul,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::TooLarge => write!(
                f,
                "response header block over {MAX_HEADER_BLOCK} bytes without an empty line"
            ),
            HeaderError::Nul => write!(f, "NUL byte in the response header block"),
        }
    }
}

#[derive(Default)]
pub struct HeaderSplit {
    buf: Vec<u8>,
    done: bool,
}

impl HeaderSplit {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds STDOUT bytes until the header block is complete. After `Done`
    /// the caller passes further STDOUT straight to the client.
    pub fn push(&mut self, data: &[u8]) -> Result<Split, HeaderError> {
        debug_assert!(!self.done, "push after the header block was complete");
        // Search only where a terminator can newly appear.
        let from = self.buf.len().saturating_sub(3);
        self.buf.extend_from_slice(data);
        if let Some(body_at) = find_blank_line(&self.buf, from) {
            let body = self.buf.split_off(body_at);
            if self.buf.contains(&0) {
                return Err(HeaderError::Nul);
            }
            self.done = true;
            let header = std::mem::take(&mut self.buf);
            return Ok(Split::Done { header, body });
        }
        if self.buf.len() > MAX_HEADER_BLOCK {
            return Err(HeaderError::TooLarge);
        }
        Ok(Split::NeedMore)
    }

    /// Bytes held so far (for a log line when the backend ends early).
    pub fn held(&self) -> usize {
        self.buf.len()
    }
}

/// Where the body starts: after the first "\n\n" or "\n\r\n" at or after
/// `from` (CGI allows bare LF). A response that starts with an empty line
/// has no headers.
fn find_blank_line(b: &[u8], from: usize) -> Option<usize> {
    if from == 0 {
        if b.starts_with(b"\r\n") {
            return Some(2);
        }
        if b.starts_with(b"\n") {
            return Some(1);
        }
    }
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c == b'\n' {
            if b.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(resp: &[u8]) -> (Vec<u8>, Vec<u8>) {
        match HeaderSplit::new().push(resp).unwrap() {
            Split::Done { header, body } => (header, body),
            Split::NeedMore => panic!("incomplete"),
        }
    }

    #[test]
    fn splits_crlf_and_lf_responses() {
        let (h, b) = whole(b"Status: 404\r\nContent-Type: text/plain\r\n\r\nnope");
        assert_eq!(h, b"Status: 404\r\nContent-Type: text/plain\r\n\r\n");
        assert_eq!(b, b"nope");
        let (h, b) = whole(b"Content-Type: text/html\n\n<p>\n\n</p>");
        assert_eq!(h, b"Content-Type: text/html\n\n");
        assert_eq!(b, b"<p>\n\n</p>");
        let (h, b) = whole(b"\r\nbody only");
        assert_eq!(h, b"\r\n");
        assert_eq!(b, b"body only");
    }

    #[test]
    fn every_split_point_gives_the_same_result() {
        let resp = b"Status: 200 OK\r\nX-A: 1\r\n\r\nhello\r\n\r\nworld";
        let expect = whole(resp);
        for cut in 0..=resp.len() {
            for cut2 in cut..=resp.len() {
                let mut s = HeaderSplit::new();
                let mut got = None;
                let mut rest = Vec::new();
                for piece in [&resp[..cut], &resp[cut..cut2], &resp[cut2..]] {
                    if got.is_some() {
                        rest.extend_from_slice(piece);
                        continue;
                    }
                    if let Split::Done { header, body } = s.push(piece).unwrap() {
                        rest = body;
                        got = Some(header);
                    }
                }
                assert_eq!(got.as_deref(), Some(&expect.0[..]), "cuts {cut} {cut2}");
                assert_eq!(rest, expect.1, "cuts {cut} {cut2}");
            }
        }
    }

    #[test]
    fn bounds_and_nul() {
        let mut s = HeaderSplit::new();
        let line = vec![b'x'; 1000];
        let mut err = None;
        for _ in 0..100 {
            match s.push(&line) {
                Ok(Split::NeedMore) => {}
                Ok(Split::Done { .. }) => panic!("no blank line was sent"),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err, Some(HeaderError::TooLarge));
        assert!(s.held() <= MAX_HEADER_BLOCK + 1000);
        assert_eq!(
            HeaderSplit::new().push(b"X: a\0b\n\nbody"),
            Err(HeaderError::Nul)
        );
    }
}
