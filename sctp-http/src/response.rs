//! HTTP/1.1 responses of one SCTP stream (sans-I/O).
//!
//! A [`StreamParser`] is told, in order, which requests were sent on its
//! stream ([`StreamParser::expect`]) and fed the bytes that arrive on the
//! stream ([`StreamParser::push`]); it yields events: the head of each
//! response (and of interim 1xx responses), body bytes, and the end of each
//! response. Content-Length, chunked (with trailers), bodiless responses
//! (HEAD, 1xx, 204, 304) and bodies delimited by the end of the connection
//! are understood. Status lines and header fields are parsed by httparse;
//! this module finds where heads end and delimits the bodies. Every buffer
//! is bounded; bad input is a typed error, never a panic.

use std::collections::VecDeque;
use std::fmt;

/// Largest status line plus header block accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest chunk-size line (with extensions) accepted.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Most header fields accepted in one response head.
pub const MAX_HEADERS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The minor version: HTTP/1.0 or HTTP/1.1.
    pub version: u8,
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The head as text (`-i`, `-I`, `-v`), as received but for the spaces
    /// around header values: the status line, the fields, each line ending
    /// in CRLF, then the blank line.
    pub fn to_text(&self) -> String {
        let mut s = format!("HTTP/1.{} {}", self.version, self.status);
        if !self.reason.is_empty() {
            s.push(' ');
            s.push_str(&self.reason);
        }
        s.push_str("\r\n");
        for (n, v) in &self.headers {
            s.push_str(n);
            s.push(':');
            if !v.is_empty() {
                s.push(' ');
                s.push_str(v);
            }
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An interim (1xx) response; the final one follows.
    Interim(Head),
    /// The head of the final response.
    Head(Head),
    /// Body bytes.
    Body(Vec<u8>),
    /// The response is complete.
    End,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Bytes arrived while no request was outstanding on the stream.
    Unexpected,
    BadStatusLine(String),
    /// A header field httparse refused (what was wrong with it).
    BadHeader(String),
    HeadTooLarge,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    BadContentLength(String),
    BadChunkSize(String),
    ChunkLineTooLong,
    /// A chunk's data was not followed by CRLF.
    BadChunkEnd,
    /// The stream ended inside a response.
    Truncated {
        expected: Option<u64>,
        got: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unexpected => write!(f, "response data on a stream with no outstanding request"),
            Error::BadStatusLine(l) => write!(f, "bad status line {l:?}"),
            Error::BadHeader(why) => write!(f, "bad response header: {why}"),
            Error::TooManyHeaders => write!(f, "more than {MAX_HEADERS} header fields"),
            Error::HeadTooLarge => write!(f, "response head larger than {MAX_HEAD} bytes"),
            Error::BadContentLength(v) => write!(f, "bad Content-Length {v:?}"),
            Error::BadChunkSize(l) => write!(f, "bad chunk size line {l:?}"),
            Error::ChunkLineTooLong => {
                write!(f, "chunk size line longer than {MAX_CHUNK_LINE} bytes")
            }
            Error::BadChunkEnd => write!(f, "chunk data not followed by CRLF"),
            Error::Truncated {
                expected: Some(e),
                got,
            } => write!(f, "truncated body: {got} of {e} bytes"),
            Error::Truncated {
                expected: None,
                got,
            } => {
                write!(f, "truncated response after {got} body bytes")
            }
        }
    }
}

impl std::error::Error for Error {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a status line and headers.
    Head,
    /// `n` body bytes left.
    Length(u64),
    /// Waiting for a chunk-size line.
    ChunkSize,
    /// `n` bytes of chunk data left, then CRLF.
    ChunkData(u64),
    ChunkCrlf,
    Trailers,
    /// Body until the end of the connection.
    UntilClose,
}

/// The parser of one stream's responses.
pub struct StreamParser {
    /// For each request sent on the stream and not yet answered: was it HEAD?
    pending: VecDeque<bool>,
    state: State,
    buf: Vec<u8>,
    body_total: u64,
    content_length: Option<u64>,
}

impl Default for StreamParser {
    fn default() -> Self {
        Self::new()
    }
}

fn find_crlf_crlf(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The first line of `block`, shortened, for an error message.
fn first_line(block: &[u8]) -> String {
    let end = block
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(block.len());
    let line = block.get(..end.min(200)).unwrap_or_default();
    String::from_utf8_lossy(line).into_owned()
}

/// Parses a response head, `block` ending with its blank line, with
/// httparse: HTTP/1.0 or 1.1, a three-digit status from 100 on, header
/// names that are tokens, no folded lines.
fn parse_head(block: &[u8]) -> Result<Head, Error> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut fields);
    match r.parse(block) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(Error::BadHeader("the head ends early".into()))
        }
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyHeaders),
        Err(e @ (httparse::Error::HeaderName | httparse::Error::HeaderValue)) => {
            return Err(Error::BadHeader(e.to_string()))
        }
        Err(httparse::Error::NewLine) if r.code.is_some() => {
            return Err(Error::BadHeader("bad line ending".into()))
        }
        Err(_) => return Err(Error::BadStatusLine(first_line(block))),
    }
    let (Some(version), Some(status)) = (r.version, r.code) else {
        return Err(Error::BadStatusLine(first_line(block)));
    };
    if status < 100 {
        return Err(Error::BadStatusLine(first_line(block)));
    }
    Ok(Head {
        version,
        status,
        reason: r.reason.unwrap_or("").to_string(),
        headers: r
            .headers
            .iter()
            .map(|h| {
                let v = String::from_utf8_lossy(h.value);
                (h.name.to_string(), v.trim().to_string())
            })
            .collect(),
    })
}

impl StreamParser {
    pub fn new() -> Self {
        StreamParser {
            pending: VecDeque::new(),
            state: State::Head,
            buf: Vec::new(),
            body_total: 0,
            content_length: None,
        }
    }

    /// A request was sent on the stream (`head`: it was a HEAD request).
    pub fn expect(&mut self, head: bool) {
        self.pending.push_back(head);
    }

    /// Requests sent and not yet completely answered.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    fn end_response(&mut self, out: &mut Vec<Event>) {
        self.pending.pop_front();
        self.state = State::Head;
        self.body_total = 0;
        self.content_length = None;
        out.push(Event::End);
    }

    fn body(&mut self, data: &[u8], out: &mut Vec<Event>) {
        if !data.is_empty() {
            self.body_total += data.len() as u64;
            out.push(Event::Body(data.to_vec()));
        }
    }

    /// Feeds bytes that arrived on the stream; appends the events to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Event>) -> Result<(), Error> {
        loop {
            match self.state {
                State::Head => {
                    if data.is_empty() {
                        return Ok(());
                    }
                    if self.pending.is_empty() {
                        return Err(Error::Unexpected);
                    }
                    // Only what can still belong to the head is buffered.
                    let room = MAX_HEAD + 4 - self.buf.len();
                    let take = data.len().min(room);
                    let start = self.buf.len().saturating_sub(3);
                    self.buf.extend_from_slice(&data[..take]);
                    let Some(i) = find_crlf_crlf(&self.buf[start..]).map(|i| i + start) else {
                        if self.buf.len() > MAX_HEAD {
                            return Err(Error::HeadTooLarge);
                        }
                        data = &data[take..];
                        if data.is_empty() {
                            return Ok(());
                        }
                        continue;
                    };
                    if i > MAX_HEAD {
                        return Err(Error::HeadTooLarge);
                    }
                    // Bytes after the head go back to `data`.
                    let used_from_data = take - (self.buf.len() - (i + 4));
                    let head = parse_head(self.buf.get(..i + 4).unwrap_or_default())?;
                    self.buf.clear();
                    data = &data[used_from_data..];
                    self.start_body(head, out)?;
                }
                State::Length(n) => {
                    let k = (data.len() as u64).min(n) as usize;
                    let (now, rest) = data.split_at(k);
                    self.body(now, out);
                    data = rest;
                    if n - k as u64 == 0 {
                        self.end_response(out);
                    } else {
                        self.state = State::Length(n - k as u64);
                        return Ok(());
                    }
                }
                State::UntilClose => {
                    self.body(data, out);
                    return Ok(());
                }
                State::ChunkSize | State::Trailers => {
                    let Some(line) = self.line(&mut data)? else {
                        return Ok(());
                    };
                    if self.state == State::Trailers {
                        if line.is_empty() {
                            self.end_response(out);
                        }
                        continue;
                    }
                    let text = String::from_utf8_lossy(&line).into_owned();
                    let hex = text.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(hex, 16)
                        .ok()
                        .filter(|_| !hex.is_empty() && hex.len() <= 15)
                        .ok_or_else(|| Error::BadChunkSize(text.chars().take(100).collect()))?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(n) => {
                    if data.is_empty() {
                        return Ok(());
                    }
                    let k = (data.len() as u64).min(n) as usize;
                    let (now, rest) = data.split_at(k);
                    self.body(now, out);
                    data = rest;
                    self.state = if n - k as u64 == 0 {
                        State::ChunkCrlf
                    } else {
                        State::ChunkData(n - k as u64)
                    };
                }
                State::ChunkCrlf => {
                    while !data.is_empty() && self.buf.len() < 2 {
                        self.buf.push(data[0]);
                        data = &data[1..];
                    }
                    if self.buf.len() < 2 {
                        return Ok(());
                    }
                    if self.buf != b"\r\n" {
                        return Err(Error::BadChunkEnd);
                    }
                    self.buf.clear();
                    self.state = State::ChunkSize;
                }
            }
        }
    }

    /// A CRLF-terminated line (without CRLF) for chunk sizes and trailers.
    fn line(&mut self, data: &mut &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match data.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.buf.extend_from_slice(&data[..i]);
                *data = &data[i + 1..];
                let mut l = std::mem::take(&mut self.buf);
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                if l.len() > MAX_CHUNK_LINE {
                    return Err(Error::ChunkLineTooLong);
                }
                Ok(Some(l))
            }
            None => {
                self.buf.extend_from_slice(data);
                *data = &[];
                if self.buf.len() > MAX_CHUNK_LINE {
                    return Err(Error::ChunkLineTooLong);
                }
                Ok(None)
            }
        }
    }

    fn start_body(&mut self, head: Head, out: &mut Vec<Event>) -> Result<(), Error> {
        let is_head_request = self.pending.front().copied().unwrap_or(false);
        if (100..200).contains(&head.status) && head.status != 101 {
            out.push(Event::Interim(head));
            return Ok(());
        }
        let chunked = head
            .header("Transfer-Encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = match head.header("Content-Length") {
            Some(v) => Some(
                v.parse::<u64>()
                    .map_err(|_| Error::BadContentLength(v.chars().take(50).collect()))?,
            ),
            None => None,
        };
        let bodiless = is_head_request || head.status == 204 || head.status == 304;
        out.push(Event::Head(head));
        self.content_length = length;
        if bodiless {
            self.end_response(out);
        } else if chunked {
            self.state = State::ChunkSize;
        } else if let Some(n) = length {
            self.state = State::Length(n);
            if n == 0 {
                self.end_response(out);
            }
        } else {
            self.state = State::UntilClose;
        }
        Ok(())
    }

    /// The stream (association or connection) ended: completes a body
    /// delimited by the close; anything else left open is an error.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<(), Error> {
        match self.state {
            State::UntilClose => {
                self.end_response(out);
                Ok(())
            }
            State::Head if self.buf.is_empty() => Ok(()),
            _ => Err(Error::Truncated {
                expected: self.content_length,
                got: self.body_total,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` split at `cuts` and collects the body per response.
    fn run(heads: &[bool], input: &[u8], split: usize) -> Result<Vec<(u16, Vec<u8>)>, Error> {
        let mut p = StreamParser::new();
        for &h in heads {
            p.expect(h);
        }
        let mut ev = Vec::new();
        for piece in input.chunks(split.max(1)) {
            p.push(piece, &mut ev)?;
        }
        p.finish(&mut ev)?;
        let mut out = Vec::new();
        let mut cur: Option<(u16, Vec<u8>)> = None;
        for e in ev {
            match e {
                Event::Head(h) => cur = Some((h.status, Vec::new())),
                Event::Body(b) => cur.as_mut().unwrap().1.extend(b),
                Event::End => out.push(cur.take().unwrap()),
                Event::Interim(_) => {}
            }
        }
        Ok(out)
    }

    const PIPELINE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n\
HTTP/1.0 200 OK\r\n\r\nuntil the end";

    #[test]
    fn pipelined_responses_at_every_split() {
        // The 4th request was HEAD: its Content-Length announces no body.
        let heads = [false, false, true, false, false, false];
        for split in 1..=PIPELINE.len() {
            let r = run(&heads, PIPELINE, split).unwrap_or_else(|e| panic!("split {split}: {e}"));
            assert_eq!(
                r,
                vec![
                    (200, b"hello".to_vec()),
                    (200, b"abcde".to_vec()),
                    (200, vec![]),
                    (304, vec![]),
                    (404, vec![]),
                    (200, b"until the end".to_vec()),
                ],
                "split {split}"
            );
        }
    }

    #[test]
    fn interim_response_is_reported() {
        let mut p = StreamParser::new();
        p.expect(false);
        let mut ev = Vec::new();
        p.push(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
            &mut ev,
        )
        .unwrap();
        assert!(matches!(&ev[0], Event::Interim(h) if h.status == 100));
        assert!(
            matches!(&ev[1], Event::Head(h) if h.status == 201 && h.header("content-length") == Some("0"))
        );
        assert_eq!(ev[2], Event::End);
        assert_eq!(p.outstanding(), 0);
    }

    #[test]
    fn data_without_a_request_is_unexpected() {
        let mut p = StreamParser::new();
        let mut ev = Vec::new();
        assert_eq!(
            p.push(b"HTTP/1.1 200 OK\r\n", &mut ev),
            Err(Error::Unexpected)
        );
        p.expect(false);
        // One response answers the one request; more bytes are unexpected.
        assert_eq!(
            p.push(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP",
                &mut ev
            ),
            Err(Error::Unexpected)
        );
        assert_eq!(ev.last(), Some(&Event::End));
    }

    #[test]
    fn truncation_is_an_error_with_counts() {
        let e = run(
            &[false],
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            4,
        )
        .unwrap_err();
        assert_eq!(
            e,
            Error::Truncated {
                expected: Some(10),
                got: 3
            }
        );
        assert!(e.to_string().contains("3 of 10"));
        let e = run(
            &[false],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            3,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Truncated { got: 2, .. }), "{e:?}");
        assert!(
            run(&[false], b"HTTP/1.1 200 OK\r\nConte", 3).is_err(),
            "EOF inside the head"
        );
    }

    #[test]
    fn bad_input_gives_typed_errors() {
        type Check = fn(&Error) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"HTTP/2 200 OK\r\n\r\n", |e| {
                matches!(e, Error::BadStatusLine(_))
            }),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", |e| {
                matches!(e, Error::BadStatusLine(_))
            }),
            (b"garbage\r\n\r\n", |e| matches!(e, Error::BadStatusLine(_))),
            (b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", |e| {
                matches!(e, Error::BadHeader(_))
            }),
            (b"HTTP/1.1 200 OK\r\nA B: v\r\n\r\n", |e| {
                matches!(e, Error::BadHeader(_))
            }),
            (b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", |e| {
                matches!(e, Error::BadHeader(_))
            }),
            (b"HTTP/1.1 099 Low\r\n\r\n", |e| {
                matches!(e, Error::BadStatusLine(_))
            }),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", |e| {
                matches!(e, Error::BadContentLength(_))
            }),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                |e| matches!(e, Error::BadChunkSize(_)),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
                |e| matches!(e, Error::BadChunkEnd),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
                |e| matches!(e, Error::BadChunkSize(_)),
            ),
        ];
        for (input, ok) in cases {
            for split in [1, 3, input.len()] {
                let e = run(&[false], input, split).unwrap_err();
                assert!(
                    ok(&e),
                    "{:?} split {split}: {e:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn heads_keep_version_reason_and_fields() {
        let mut p = StreamParser::new();
        p.expect(true);
        let mut ev = Vec::new();
        p.push(
            b"HTTP/1.0 404 Not  Found\r\nServer: x\r\nContent-Length:   12 \r\nX-E:\r\n\r\n",
            &mut ev,
        )
        .unwrap();
        let Some(Event::Head(h)) = ev.first() else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (h.version, h.status, h.reason.as_str()),
            (0, 404, "Not  Found")
        );
        assert_eq!(h.header("content-length"), Some("12"));
        assert_eq!(h.header("x-e"), Some(""));
        assert_eq!(
            h.to_text(),
            "HTTP/1.0 404 Not  Found\r\nServer: x\r\nContent-Length: 12\r\nX-E:\r\n\r\n"
        );
        // A HEAD request: no body despite the Content-Length.
        assert_eq!(ev.get(1), Some(&Event::End));
        // No reason phrase.
        let mut p = StreamParser::new();
        p.expect(false);
        let mut ev = Vec::new();
        p.push(b"HTTP/1.1 204\r\n\r\n", &mut ev).unwrap();
        assert!(matches!(&ev[0], Event::Head(h) if h.to_text() == "HTTP/1.1 204\r\n\r\n"));
    }

    #[test]
    fn too_many_header_fields() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(run(&[false], &head, 1000), Err(Error::TooManyHeaders));
        // One fewer field than the bound is fine.
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..MAX_HEADERS - 1 {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"Content-Length: 1\r\n\r\nz");
        assert_eq!(run(&[false], &head, 1000), Ok(vec![(200, b"z".to_vec())]));
    }

    #[test]
    fn buffers_are_bounded() {
        let mut p = StreamParser::new();
        p.expect(false);
        let mut ev = Vec::new();
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        let filler =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut err = None;
        for _ in 0..2000 {
            head.clear();
            head.extend_from_slice(filler);
            if let Err(e) = p.push(&head, &mut ev) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(Error::HeadTooLarge));
        assert!(p.buf.len() <= MAX_HEAD + 4);

        let mut p = StreamParser::new();
        p.expect(false);
        p.push(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            &mut ev,
        )
        .unwrap();
        let long = vec![b'1'; MAX_CHUNK_LINE + 10];
        assert_eq!(p.push(&long, &mut ev), Err(Error::ChunkLineTooLong));
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic generator: no dependency needed.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"HTTP/1.1 200 OK\r\n:;0123456789abcdefContent-Length: Transfer-Encoding: chunked\r\n\r\n";
        for _ in 0..2000 {
            let n = (next() % 300) as usize;
            let input: Vec<u8> = (0..n)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut p = StreamParser::new();
            p.expect(next() % 2 == 0);
            p.expect(false);
            let mut ev = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let k = 1 + (next() % 17) as usize;
                let (a, b) = rest.split_at(k.min(rest.len()));
                if p.push(a, &mut ev).is_err() {
                    break;
                }
                rest = b;
            }
            let _ = p.finish(&mut ev);
        }
    }
}
