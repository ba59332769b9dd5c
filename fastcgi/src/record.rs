//! FastCGI records: constants, the [`Record`] type, encoding and the
//! incremental, bounded [`Decoder`].

use std::fmt;

use crate::params::{decode_pairs, encode_pairs};

/// The only protocol version defined by FastCGI 1.0.
pub const VERSION_1: u8 = 1;

pub const BEGIN_REQUEST: u8 = 1;
pub const ABORT_REQUEST: u8 = 2;
pub const END_REQUEST: u8 = 3;
pub const PARAMS: u8 = 4;
pub const STDIN: u8 = 5;
pub const STDOUT: u8 = 6;
pub const STDERR: u8 = 7;
pub const DATA: u8 = 8;
pub const GET_VALUES: u8 = 9;
pub const GET_VALUES_RESULT: u8 = 10;
pub const UNKNOWN_TYPE: u8 = 11;

pub const RESPONDER: u16 = 1;
pub const AUTHORIZER: u16 = 2;
pub const FILTER: u16 = 3;

/// BEGIN_REQUEST flag: keep the connection open after the request.
pub const KEEP_CONN: u8 = 1;

pub const REQUEST_COMPLETE: u8 = 0;
pub const CANT_MPX_CONN: u8 = 1;
pub const OVERLOADED: u8 = 2;
pub const UNKNOWN_ROLE: u8 = 3;

/// Largest content length a single record can carry.
pub const MAX_CONTENT: usize = 65535;
/// Size of the fixed record header.
pub const HEADER_LEN: usize = 8;

/// Protocol errors. Every failure of decoding or encoding is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Record header carries a version other than 1.
    BadVersion(u8),
    /// Content of this many bytes does not fit in one record.
    TooLong(usize),
    /// Pushing would make the decoder hold more than `Limits::max_buffer`.
    BufferFull,
    /// Input ended inside a record or inside a name-value length field.
    Truncated,
    /// BEGIN_REQUEST content is not exactly 8 bytes.
    BadBeginRequest,
    /// END_REQUEST content is not exactly 8 bytes.
    BadEndRequest,
    /// UNKNOWN_TYPE content is not exactly 8 bytes.
    BadUnknownType,
    /// Management record with a non-zero id, or application record with id 0.
    BadRequestId { kind: u8, id: u16 },
    /// A name-value length runs past the end of the data.
    BadNameValue,
    /// More name-value pairs than `Limits::max_pairs`.
    TooManyPairs,
    /// A name longer than `Limits::max_name`.
    NameTooLong(usize),
    /// A value longer than `Limits::max_value`.
    ValueTooLong(usize),
    /// A PARAMS stream longer than the collector's limit.
    ParamsTooLong,
    /// PARAMS data after the terminating empty record.
    ParamsEnded,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadVersion(v) => write!(f, "unsupported FastCGI version {v}"),
            Error::TooLong(n) => write!(f, "record content of {n} bytes exceeds {MAX_CONTENT}"),
            Error::BufferFull => f.write_str("decoder buffer limit exceeded"),
            Error::Truncated => f.write_str("input truncated"),
            Error::BadBeginRequest => f.write_str("BEGIN_REQUEST content is not 8 bytes"),
            Error::BadEndRequest => f.write_str("END_REQUEST content is not 8 bytes"),
            Error::BadUnknownType => f.write_str("UNKNOWN_TYPE content is not 8 bytes"),
            Error::BadRequestId { kind, id } => {
                write!(f, "request id {id} not allowed for record type {kind}")
            }
            Error::BadNameValue => f.write_str("name-value length exceeds data"),
            Error::TooManyPairs => f.write_str("too many name-value pairs"),
            Error::NameTooLong(n) => write!(f, "name of {n} bytes exceeds limit"),
            Error::ValueTooLong(n) => write!(f, "value of {n} bytes exceeds limit"),
            Error::ParamsTooLong => f.write_str("PARAMS stream exceeds limit"),
            Error::ParamsEnded => f.write_str("PARAMS data after end of stream"),
        }
    }
}

impl std::error::Error for Error {}

/// Name-value pairs as carried by GET_VALUES, GET_VALUES_RESULT and PARAMS.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One decoded FastCGI record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    BeginRequest {
        id: u16,
        role: u16,
        keep_conn: bool,
    },
    AbortRequest {
        id: u16,
    },
    EndRequest {
        id: u16,
        app_status: u32,
        protocol_status: u8,
    },
    Params {
        id: u16,
        data: Vec<u8>,
    },
    Stdin {
        id: u16,
        data: Vec<u8>,
    },
    Stdout {
        id: u16,
        data: Vec<u8>,
    },
    Stderr {
        id: u16,
        data: Vec<u8>,
    },
    Data {
        id: u16,
        data: Vec<u8>,
    },
    GetValues {
        pairs: Pairs,
    },
    GetValuesResult {
        pairs: Pairs,
    },
    UnknownType {
        kind: u8,
    },
    /// A record of a type this crate does not know. For management records
    /// (id 0) the caller should answer with `UnknownType { kind }`.
    Unknown {
        kind: u8,
        id: u16,
        content: Vec<u8>,
    },
}

impl Record {
    /// The request id; 0 for management records.
    pub fn request_id(&self) -> u16 {
        match self {
            Record::BeginRequest { id, .. }
            | Record::AbortRequest { id }
            | Record::EndRequest { id, .. }
            | Record::Params { id, .. }
            | Record::Stdin { id, .. }
            | Record::Stdout { id, .. }
            | Record::Stderr { id, .. }
            | Record::Data { id, .. }
            | Record::Unknown { id, .. } => *id,
            Record::GetValues { .. }
            | Record::GetValuesResult { .. }
            | Record::UnknownType { .. } => 0,
        }
    }

    /// The record type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Record::BeginRequest { .. } => BEGIN_REQUEST,
            Record::AbortRequest { .. } => ABORT_REQUEST,
            Record::EndRequest { .. } => END_REQUEST,
            Record::Params { .. } => PARAMS,
            Record::Stdin { .. } => STDIN,
            Record::Stdout { .. } => STDOUT,
            Record::Stderr { .. } => STDERR,
            Record::Data { .. } => DATA,
            Record::GetValues { .. } => GET_VALUES,
            Record::GetValuesResult { .. } => GET_VALUES_RESULT,
            Record::UnknownType { .. } => UNKNOWN_TYPE,
            Record::Unknown { kind, .. } => *kind,
        }
    }

    /// Appends header, content and zero padding (to a multiple of 8) to
    /// `out`. Content over [`MAX_CONTENT`] bytes is `Error::TooLong` and
    /// leaves `out` unchanged; split streams with [`encode_stream`].
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut tmp = Vec::new();
        let content: &[u8] = match self {
            Record::BeginRequest {
                role, keep_conn, ..
            } => {
                tmp.extend_from_slice(&role.to_be_bytes());
                tmp.push(if *keep_conn { KEEP_CONN } else { 0 });
                tmp.extend_from_slice(&[0; 5]);
                &tmp
            }
            Record::AbortRequest { .. } => &[],
            Record::EndRequest {
                app_status,
                protocol_status,
                ..
            } => {
                tmp.extend_from_slice(&app_status.to_be_bytes());
                tmp.extend_from_slice(&[*protocol_status, 0, 0, 0]);
                &tmp
            }
            Record::Params { data, .. }
            | Record::Stdin { data, .. }
            | Record::Stdout { data, .. }
            | Record::Stderr { data, .. }
            | Record::Data { data, .. } => data,
            Record::GetValues { pairs } | Record::GetValuesResult { pairs } => {
                encode_pairs(pairs.as_slice(), &mut tmp);
                &tmp
            }
            Record::UnknownType { kind } => {
                tmp.extend_from_slice(&[*kind, 0, 0, 0, 0, 0, 0, 0]);
                &tmp
            }
            Record::Unknown { content, .. } => content,
        };
        write_record(self.kind(), self.request_id(), content, out)
    }
}

fn write_record(kind: u8, id: u16, content: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let len = content.len();
    if len > MAX_CONTENT {
        return Err(Error::TooLong(len));
    }
    let pad = (8 - len % 8) % 8;
    out.reserve(HEADER_LEN + len + pad);
    let [i1, i0] = id.to_be_bytes();
    let [l1, l0] = (len as u16).to_be_bytes();
    out.extend_from_slice(&[VERSION_1, kind, i1, i0, l1, l0, pad as u8, 0]);
    out.extend_from_slice(content);
    out.resize(out.len() + pad, 0);
    Ok(())
}

/// Appends `data` as stream records of type `kind` (PARAMS, STDIN, STDOUT,
/// STDERR, DATA) for request `id`, each carrying at most [`MAX_CONTENT`]
/// bytes. Empty `data` writes the empty end-of-stream record.
pub fn encode_stream(kind: u8, id: u16, data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        let _ = write_record(kind, id, &[], out);
    }
    for chunk in data.chunks(MAX_CONTENT) {
        let _ = write_record(kind, id, chunk, out);
    }
}

/// Resource limits for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes the [`Decoder`] holds at once.
    pub max_buffer: usize,
    /// Most name-value pairs in one block.
    pub max_pairs: usize,
    /// Longest name in bytes.
    pub max_name: usize,
    /// Longest value in bytes.
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffer: 64 * 1024 + HEADER_LEN + 255 + 4096,
            max_pairs: 256,
            max_name: 4096,
            max_value: 65535,
        }
    }
}

/// Incremental record decoder: push bytes as they arrive, take records out
/// with [`Decoder::next`]. After an error it stays failed.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    buf: Vec<u8>,
    start: usize,
    failed: Option<Error>,
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            buf: Vec::new(),
            start: 0,
            failed: None,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes buffered but not yet returned as records.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends `bytes`. Fails with `Error::BufferFull` (nothing is appended
    /// and the decoder is failed from then on) when more than `max_buffer`
    /// bytes would be pending; drain with [`Decoder::next`] after every push,
    /// in chunks of at most 4 KiB with the default limits.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.pending() + bytes.len() > self.limits.max_buffer {
            self.failed = Some(Error::BufferFull);
            return Err(Error::BufferFull);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// The next complete record, or `None` when more bytes are needed.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.decode_one();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// At end of input: `Error::Truncated` if a partial record is buffered.
    pub fn finish(&self) -> Result<(), Error> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None if self.pending() > 0 => Err(Error::Truncated),
            None => Ok(()),
        }
    }

    fn decode_one(&mut self) -> Result<Option<Record>, Error> {
        let avail = &self.buf[self.start..];
        match avail.first() {
            None => return Ok(None),
            Some(&v) if v != VERSION_1 => return Err(Error::BadVersion(v)),
            _ => {}
        }
        if avail.len() < HEADER_LEN {
            return Ok(None);
        }
        let kind = avail[1];
        let id = u16::from_be_bytes([avail[2], avail[3]]);
        let len = u16::from_be_bytes([avail[4], avail[5]]) as usize;
        let total = HEADER_LEN + len + avail[6] as usize;
        if avail.len() < total {
            return Ok(None);
        }
        let record = parse(kind, id, &avail[HEADER_LEN..HEADER_LEN + len], &self.limits)?;
        self.start += total;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(record))
    }
}

fn parse(kind: u8, id: u16, c: &[u8], limits: &Limits) -> Result<Record, Error> {
    let management = matches!(kind, GET_VALUES | GET_VALUES_RESULT | UNKNOWN_TYPE);
    let application = (BEGIN_REQUEST..=DATA).contains(&kind);
    if (management && id != 0) || (application && id == 0) {
        return Err(Error::BadRequestId { kind, id });
    }
    let data = || c.to_vec();
    Ok(match kind {
        BEGIN_REQUEST => {
            if c.len() != 8 {
                return Err(Error::BadBeginRequest);
            }
            Record::BeginRequest {
                id,
                role: u16::from_be_bytes([c[0], c[1]]),
                keep_conn: c[2] & KEEP_CONN != 0,
            }
        }
        ABORT_REQUEST => Record::AbortRequest { id },
        END_REQUEST => {
            if c.len() != 8 {
                return Err(Error::BadEndRequest);
            }
            Record::EndRequest {
                id,
                app_status: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                protocol_status: c[4],
            }
        }
        PARAMS => Record::Params { id, data: data() },
        STDIN => Record::Stdin { id, data: data() },
        STDOUT => Record::Stdout { id, data: data() },
        STDERR => Record::Stderr { id, data: data() },
        DATA => Record::Data { id, data: data() },
        GET_VALUES => Record::GetValues {
            pairs: decode_pairs(c, limits)?,
        },
        GET_VALUES_RESULT => Record::GetValuesResult {
            pairs: decode_pairs(c, limits)?,
        },
        UNKNOWN_TYPE => {
            if c.len() != 8 {
                return Err(Error::BadUnknownType);
            }
            Record::UnknownType { kind: c[0] }
        }
        _ => Record::Unknown {
            kind,
            id,
            content: data(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn samples() -> Vec<Record> {
        vec![
            Record::BeginRequest {
                id: 1,
                role: RESPONDER,
                keep_conn: true,
            },
            Record::BeginRequest {
                id: 65535,
                role: FILTER,
                keep_conn: false,
            },
            Record::AbortRequest { id: 7 },
            Record::EndRequest {
                id: 2,
                app_status: 0xdead_beef,
                protocol_status: OVERLOADED,
            },
            Record::Params {
                id: 3,
                data: b"\x04\x01HOST".to_vec(),
            },
            Record::Stdin {
                id: 3,
                data: vec![],
            },
            Record::Stdout {
                id: 4,
                data: vec![0xab; 1000],
            },
            Record::Stderr {
                id: 5,
                data: b"oops".to_vec(),
            },
            Record::Data {
                id: 6,
                data: vec![1; 65535],
            },
            Record::GetValues {
                pairs: pairs(&[("FCGI_MAX_CONNS", ""), ("FCGI_MPXS_CONNS", "")]),
            },
            Record::GetValuesResult {
                pairs: pairs(&[("FCGI_MAX_REQS", "10")]),
            },
            Record::UnknownType { kind: 42 },
            Record::Unknown {
                kind: 200,
                id: 0,
                content: b"xyz".to_vec(),
            },
        ]
    }

    fn decode_all(bytes: &[u8]) -> Result<Vec<Record>, Error> {
        let mut d = Decoder::new(Limits::default());
        d.push(bytes)?;
        let mut out = Vec::new();
        while let Some(r) = d.next()? {
            out.push(r);
        }
        d.finish().map(|_| out)
    }

    fn enc(r: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        r.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trip_every_type_with_padding() {
        for r in samples() {
            let bytes = enc(&r);
            assert_eq!(bytes.len() % 8, 0, "{r:?}");
            assert!(bytes[6] < 8);
            assert!(bytes[bytes.len() - bytes[6] as usize..]
                .iter()
                .all(|b| *b == 0));
            assert_eq!(decode_all(&bytes).unwrap(), vec![r]);
        }
    }

    #[test]
    fn header_layout() {
        let bytes = enc(&Record::Stdout {
            id: 0x0102,
            data: b"abc".to_vec(),
        });
        assert_eq!(&bytes[..8], &[1, STDOUT, 1, 2, 0, 3, 5, 0]);
        assert_eq!(bytes.len(), 16);
    }

    #[test]
    fn split_at_every_byte_boundary() {
        let mut stream = Vec::new();
        for r in samples().iter().filter(|r| r.kind() != DATA) {
            r.encode(&mut stream).unwrap();
        }
        let expected = decode_all(&stream).unwrap();
        for cut in 0..=stream.len() {
            let mut d = Decoder::new(Limits::default());
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                d.push(part).unwrap();
                while let Some(r) = d.next().unwrap() {
                    got.push(r);
                }
            }
            assert_eq!(got, expected, "cut at {cut}");
            d.finish().unwrap();
        }
    }

    #[test]
    fn too_long_and_stream_splitting() {
        let r = Record::Stdout {
            id: 1,
            data: vec![0; MAX_CONTENT + 1],
        };
        let mut out = vec![9];
        assert_eq!(r.encode(&mut out), Err(Error::TooLong(MAX_CONTENT + 1)));
        assert_eq!(out, vec![9]);

        let data: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        encode_stream(STDOUT, 9, &data, &mut out);
        encode_stream(STDOUT, 9, &[], &mut out);
        let mut d = Decoder::new(Limits::default());
        let mut joined = Vec::new();
        let mut records = 0;
        for chunk in out.chunks(4096) {
            d.push(chunk).unwrap();
            while let Some(Record::Stdout { id: 9, data }) = d.next().unwrap() {
                assert!(data.len() <= MAX_CONTENT);
                joined.extend_from_slice(&data);
                records += 1;
            }
        }
        assert_eq!(records, 4);
        assert_eq!(joined, data);
    }

    #[test]
    fn rejects_bad_records() {
        let mut gv = enc(&Record::GetValues { pairs: vec![] });
        gv[3] = 1;
        assert_eq!(
            decode_all(&gv),
            Err(Error::BadRequestId {
                kind: GET_VALUES,
                id: 1
            })
        );

        let mut begin = enc(&Record::BeginRequest {
            id: 1,
            role: RESPONDER,
            keep_conn: false,
        });
        begin[3] = 0;
        assert!(matches!(
            decode_all(&begin),
            Err(Error::BadRequestId { .. })
        ));

        let short = [1, BEGIN_REQUEST, 0, 1, 0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_all(&short), Err(Error::BadBeginRequest));
        // Header promises 9 + 7 bytes; only 14 arrive before end of input.
        let mut end = vec![1, END_REQUEST, 0, 1, 0, 9, 7, 0];
        end.extend_from_slice(&[0; 14]);
        assert_eq!(decode_all(&end), Err(Error::Truncated));
        let unk = [1, UNKNOWN_TYPE, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_all(&unk), Err(Error::BadUnknownType));

        let mut v2 = enc(&Record::AbortRequest { id: 1 });
        v2[0] = 2;
        assert_eq!(decode_all(&v2), Err(Error::BadVersion(2)));
    }

    #[test]
    fn bad_end_request_and_sticky_error() {
        let bytes = [1, END_REQUEST, 0, 1, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut d = Decoder::new(Limits::default());
        d.push(&bytes).unwrap();
        assert_eq!(d.next(), Err(Error::BadEndRequest));
        assert_eq!(d.next(), Err(Error::BadEndRequest));
        assert_eq!(
            d.push(&enc(&Record::AbortRequest { id: 1 })),
            Err(Error::BadEndRequest)
        );
        assert_eq!(d.finish(), Err(Error::BadEndRequest));
    }

    #[test]
    fn decoder_is_bounded() {
        let limits = Limits::default();
        let mut d = Decoder::new(limits);
        // A header announcing a full record, then 1 MiB that is never drained.
        d.push(&[1, STDIN, 0, 1, 0xff, 0xff, 0xff, 0]).unwrap();
        let chunk = [0u8; 4096];
        let mut failed = false;
        for _ in 0..256 {
            match d.push(&chunk) {
                Ok(()) => assert!(d.pending() <= limits.max_buffer),
                Err(e) => {
                    assert_eq!(e, Error::BufferFull);
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed);
        assert!(d.pending() <= limits.max_buffer);
        assert!(d.buf.capacity() <= 2 * limits.max_buffer);
    }

    #[test]
    fn unknown_management_record_passes_through() {
        let bytes = [1, 99, 0, 0, 0, 1, 7, 0, 5, 0, 0, 0, 0, 0, 0, 0];
        let r = decode_all(&bytes).unwrap();
        assert_eq!(
            r,
            vec![Record::Unknown {
                kind: 99,
                id: 0,
                content: vec![5]
            }]
        );
        assert_eq!(r[0].request_id(), 0);
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn fuzz_decoder_and_pairs() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let valid: Vec<Vec<u8>> = samples()
            .iter()
            .filter(|r| r.kind() != DATA)
            .map(enc)
            .collect();
        let limits = Limits {
            max_buffer: 1024,
            max_pairs: 8,
            max_name: 64,
            max_value: 256,
        };
        for i in 0..20_000 {
            let mut input = if i % 2 == 0 {
                let n = rng.below(300);
                let mut v: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                if rng.below(2) == 0 && !v.is_empty() {
                    v[0] = VERSION_1;
                }
                v
            } else {
                let mut v = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    v.extend_from_slice(&valid[rng.below(valid.len())]);
                }
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(v.len());
                    v[at] = rng.next() as u8;
                }
                v
            };
            if rng.below(4) == 0 {
                input.truncate(rng.below(input.len() + 1));
            }
            let mut d = Decoder::new(limits);
            let mut rest = &input[..];
            'feed: while !rest.is_empty() {
                let take = 1 + rng.below(rest.len().min(97));
                let pushed = d.push(&rest[..take]);
                rest = &rest[take..];
                if pushed.is_err() {
                    break;
                }
                assert!(d.pending() <= limits.max_buffer);
                loop {
                    match d.next() {
                        Ok(Some(r)) => {
                            let mut out = Vec::new();
                            r.encode(&mut out).unwrap();
                        }
                        Ok(None) => break,
                        Err(e) => {
                            assert_eq!(d.next(), Err(e));
                            break 'feed;
                        }
                    }
                }
            }
            let _ = d.finish();
            if let Ok(p) = decode_pairs(&input, &limits) {
                assert!(p.len() <= limits.max_pairs);
                let bytes: usize = p.iter().map(|(n, v)| n.len() + v.len()).sum();
                assert!(bytes <= input.len());
            }
        }
    }
}
