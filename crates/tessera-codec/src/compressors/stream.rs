//! One driver for the streaming decompressors (zlib, gzip, bz2, lzma): decode into the
//! caller's buffer, then tell "exactly full" from "a little more" from "a bomb" without
//! allocating beyond a small scratch buffer.

use crate::error::{CodecError, CodecResult, SIZE_SLACK};

/// A streaming decompressor, fed the remaining input each step.
pub(crate) trait StreamDecoder {
    /// Decodes some of `input` into `output`: `(bytes consumed, bytes produced, stream ended)`.
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> CodecResult<(usize, usize, bool)>;

    /// After a stream ended with `rest` left over: start decoding the next concatenated stream
    /// (`true`), or stop and ignore `rest` (`false`), as Python's decompressor would.
    fn restart(&mut self, rest: &[u8]) -> CodecResult<bool>;
}

/// Decodes all of `input` into exactly `out`.
pub(crate) fn decode_stream(
    codec: &str,
    dec: &mut impl StreamDecoder,
    input: &[u8],
    out: &mut [u8],
) -> CodecResult<()> {
    let (mut ip, mut op) = (0usize, 0usize);
    loop {
        let (c, p, ended) = dec.step(&input[ip..], &mut out[op..])?;
        ip += c;
        op += p;
        if ended {
            if ip < input.len() && dec.restart(&input[ip..])? {
                continue;
            }
            if op != out.len() {
                return Err(CodecError::size(codec, out.len(), op as u64));
            }
            return Ok(());
        }
        if op == out.len() {
            return probe(codec, dec, &input[ip..], out.len());
        }
        if c == 0 && p == 0 {
            return Err(CodecError::corrupt(codec, "truncated stream"));
        }
    }
}

/// The caller's buffer is full and the stream has not ended: decode on into scratch space to
/// see whether it ends now (fine), soon (SizeMismatch) or not within [`SIZE_SLACK`] (TooLarge).
fn probe(
    codec: &str,
    dec: &mut impl StreamDecoder,
    input: &[u8],
    expected: usize,
) -> CodecResult<()> {
    let mut scratch = vec![0u8; 64 * 1024];
    let (mut ip, mut extra) = (0usize, 0usize);
    loop {
        let (c, p, ended) = dec.step(&input[ip..], &mut scratch)?;
        ip += c;
        extra += p;
        if ended {
            if ip < input.len() && dec.restart(&input[ip..])? {
                continue;
            }
            return if extra == 0 {
                Ok(())
            } else {
                Err(CodecError::size(codec, expected, (expected + extra) as u64))
            };
        }
        if extra > SIZE_SLACK {
            return Err(CodecError::bomb(codec, expected));
        }
        if c == 0 && p == 0 {
            return Err(CodecError::corrupt(codec, "truncated stream"));
        }
    }
}

/// Decodes all of `input` into a growing buffer, for data whose decoded size is unknown: more
/// than `max_len` bytes is [`TooLarge`](crate::CodecErrorKind::TooLarge). Memory follows the
/// output actually produced (in 64 KiB steps), not any size the stream claims.
pub(crate) fn decode_stream_unsized(
    codec: &str,
    dec: &mut impl StreamDecoder,
    input: &[u8],
    max_len: usize,
) -> CodecResult<Vec<u8>> {
    const STEP: usize = 64 * 1024;
    let mut out: Vec<u8> = Vec::new();
    let mut ip = 0usize;
    loop {
        let op = out.len();
        if op > max_len {
            return Err(over_limit(codec, max_len));
        }
        out.resize(op + STEP, 0);
        let (c, p, ended) = dec.step(&input[ip..], &mut out[op..])?;
        ip += c;
        out.truncate(op + p);
        if ended {
            if ip < input.len() && dec.restart(&input[ip..])? {
                continue;
            }
            if out.len() > max_len {
                return Err(over_limit(codec, max_len));
            }
            return Ok(out);
        }
        if c == 0 && p == 0 {
            return Err(CodecError::corrupt(codec, "truncated stream"));
        }
    }
}

/// Data of unknown decoded size produces more than the caller's limit.
pub(crate) fn over_limit(codec: &str, max_len: usize) -> CodecError {
    CodecError::new(
        crate::CodecErrorKind::TooLarge,
        codec,
        format!("data decodes to more than {max_len} bytes, the limit for this chunk"),
    )
}
