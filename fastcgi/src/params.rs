//! FastCGI name-value pairs (PARAMS, GET_VALUES, GET_VALUES_RESULT bodies)
//! and the per-request [`ParamsCollector`].

use crate::record::{Error, Limits, Pairs};

/// Default cap on a request's whole PARAMS stream: 1 MiB.
pub const DEFAULT_MAX_PARAMS: usize = 1024 * 1024;

fn put_len(len: usize, out: &mut Vec<u8>) {
    if len < 128 {
        out.push(len as u8);
    } else {
        let len = u32::try_from(len)
            .ok()
            .filter(|l| *l <= 0x7fff_ffff)
            .expect("FastCGI name-value length exceeds 2^31-1");
        out.extend_from_slice(&(len | 0x8000_0000).to_be_bytes());
    }
}

/// Appends the pairs in FastCGI name-value encoding: a 1-byte length for
/// lengths below 128, otherwise 4 bytes with the high bit set.
///
/// # Panics
/// If a name or value is longer than 2^31-1 bytes (not representable).
pub fn encode_pairs(pairs: &[(impl AsRef<[u8]>, impl AsRef<[u8]>)], out: &mut Vec<u8>) {
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        put_len(name.len(), out);
        put_len(value.len(), out);
        out.extend_from_slice(name);
        out.extend_from_slice(value);
    }
}

/// Reads one length field, advancing `pos`.
fn get_len(data: &[u8], pos: &mut usize) -> Result<usize, Error> {
    let first = *data.get(*pos).ok_or(Error::Truncated)?;
    if first < 0x80 {
        *pos += 1;
        return Ok(first as usize);
    }
    let b = data.get(*pos..*pos + 4).ok_or(Error::Truncated)?;
    *pos += 4;
    Ok((u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff) as usize)
}

/// Decodes a complete name-value block. Lengths are checked against the
/// limits and the remaining input before anything is allocated.
pub fn decode_pairs(data: &[u8], limits: &Limits) -> Result<Pairs, Error> {
    let mut pairs = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        if pairs.len() >= limits.max_pairs {
            return Err(Error::TooManyPairs);
        }
        let name_len = get_len(data, &mut pos)?;
        let value_len = get_len(data, &mut pos)?;
        if name_len > limits.max_name {
            return Err(Error::NameTooLong(name_len));
        }
        if value_len > limits.max_value {
            return Err(Error::ValueTooLong(value_len));
        }
        let rest = data.len() - pos;
        if name_len > rest || value_len > rest - name_len {
            return Err(Error::BadNameValue);
        }
        let name = data[pos..pos + name_len].to_vec();
        pos += name_len;
        let value = data[pos..pos + value_len].to_vec();
        pos += value_len;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Accumulates one request's PARAMS stream across records and yields the
/// decoded pairs at the empty terminating record.
#[derive(Debug, Clone)]
pub struct ParamsCollector {
    limits: Limits,
    max_total: usize,
    buf: Vec<u8>,
    done: bool,
}

impl Default for ParamsCollector {
    fn default() -> Self {
        ParamsCollector::new(Limits::default(), DEFAULT_MAX_PARAMS)
    }
}

impl ParamsCollector {
    /// `max_total` caps the sum of all PARAMS content of the request.
    pub fn new(limits: Limits, max_total: usize) -> Self {
        ParamsCollector {
            limits,
            max_total,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Feeds the content of one PARAMS record. Returns the pairs when `data`
    /// is empty (end of stream), `None` while the stream continues.
    pub fn push(&mut self, data: &[u8]) -> Result<Option<Pairs>, Error> {
        if self.done {
            return Err(Error::ParamsEnded);
        }
        if data.is_empty() {
            self.done = true;
            let buf = std::mem::take(&mut self.buf);
            return decode_pairs(&buf, &self.limits).map(Some);
        }
        if data.len() > self.max_total - self.buf.len() {
            return Err(Error::ParamsTooLong);
        }
        self.buf.extend_from_slice(data);
        Ok(None)
    }

    /// True once the terminating empty record has been seen.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn length_encoding_boundary() {
        let name127 = vec![b'n'; 127];
        let value128 = vec![b'v'; 128];
        let mut out = Vec::new();
        encode_pairs(&[(&name127, &value128)], &mut out);
        assert_eq!(out[0], 127);
        assert_eq!(&out[1..5], &[0x80, 0, 0, 128]);
        assert_eq!(out.len(), 1 + 4 + 127 + 128);
        let back = decode_pairs(&out, &limits()).unwrap();
        assert_eq!(back, vec![(name127, value128)]);
    }

    #[test]
    fn round_trip_many() {
        let list = [("SCRIPT_NAME", "/x"), ("EMPTY", ""), ("", "nameless")];
        let mut out = Vec::new();
        encode_pairs(&list, &mut out);
        let back = decode_pairs(&out, &limits()).unwrap();
        let want: Vec<_> = list
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(back, want);
        assert_eq!(decode_pairs(&[], &limits()).unwrap(), vec![]);
    }

    #[test]
    fn huge_length_fails_without_allocation() {
        // Name length 2^31-1 claimed by 4-byte form, almost no data follows.
        let data = [0xff, 0xff, 0xff, 0xff, 0x01, b'a', b'b'];
        assert_eq!(
            decode_pairs(&data, &limits()),
            Err(Error::NameTooLong(0x7fff_ffff))
        );
        let lax = Limits {
            max_name: usize::MAX,
            max_value: usize::MAX,
            ..limits()
        };
        assert_eq!(decode_pairs(&data, &lax), Err(Error::BadNameValue));
        let data = [0x01, 0xff, 0xff, 0xff, 0xff, b'a'];
        assert_eq!(decode_pairs(&data, &lax), Err(Error::BadNameValue));
    }

    #[test]
    fn malformed_and_limits() {
        assert_eq!(
            decode_pairs(&[0x80, 0, 0], &limits()),
            Err(Error::Truncated)
        );
        assert_eq!(decode_pairs(&[3], &limits()), Err(Error::Truncated));
        assert_eq!(
            decode_pairs(&[3, 0, b'a'], &limits()),
            Err(Error::BadNameValue)
        );
        let mut out = Vec::new();
        encode_pairs(&[("a", "b"); 3], &mut out);
        let tight = Limits {
            max_pairs: 2,
            ..limits()
        };
        assert_eq!(decode_pairs(&out, &tight), Err(Error::TooManyPairs));
        let tight = Limits {
            max_value: 0,
            ..limits()
        };
        assert_eq!(decode_pairs(&out, &tight), Err(Error::ValueTooLong(1)));
    }

    #[test]
    fn collector_accumulates_across_records() {
        let mut block = Vec::new();
        encode_pairs(
            &[("REQUEST_METHOD", "GET"), ("QUERY_STRING", "a=1")],
            &mut block,
        );
        let mut c = ParamsCollector::default();
        for part in block.chunks(5) {
            assert_eq!(c.push(part).unwrap(), None);
        }
        let pairs = c.push(&[]).unwrap().unwrap();
        assert_eq!(pairs[1], (b"QUERY_STRING".to_vec(), b"a=1".to_vec()));
        assert!(c.is_complete());
        assert_eq!(c.push(b"x"), Err(Error::ParamsEnded));
    }

    #[test]
    fn collector_is_bounded() {
        let mut c = ParamsCollector::new(limits(), 10);
        assert_eq!(c.push(&[0; 6]).unwrap(), None);
        assert_eq!(c.push(&[0; 5]), Err(Error::ParamsTooLong));
        assert_eq!(c.push(&[0; 4]).unwrap(), None);
        assert_eq!(c.len(), 10);
    }
}
