//! DEFLATE through zlib (flate2's libz backend, so output is byte-identical to Python's `zlib`
//! module for the same zlib version and level), shared by `zlib` and `gzip`.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::compressors::stream::StreamDecoder;
use crate::error::{CodecError, CodecResult};

/// A compression level as Python's zlib takes it: 0..=9, or -1 for the default (6).
pub(crate) fn level(codec: &str, level: i64) -> CodecResult<Compression> {
    match level {
        -1 => Ok(Compression::new(6)),
        0..=9 => Ok(Compression::new(level as u32)),
        _ => Err(CodecError::invalid(
            codec,
            format!("level must be -1..=9, got {level}"),
        )),
    }
}

/// Deflates `input` completely: a zlib stream (`zlib_header`) or raw DEFLATE.
pub(crate) fn deflate(
    codec: &str,
    input: &[u8],
    level: Compression,
    zlib_header: bool,
) -> CodecResult<Vec<u8>> {
    let mut c = Compress::new(level, zlib_header);
    let mut out = Vec::with_capacity(input.len() + input.len() / 1000 + 64);
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity() / 2 + 64);
        }
        match c.compress_vec(&input[consumed..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(out),
            Ok(_) => continue,
            Err(e) => return Err(CodecError::internal(codec, "deflate failed").with_source(e)),
        }
    }
}

/// A zlib inflater over either wrapper.
pub(crate) struct Inflater {
    pub(crate) codec: &'static str,
    pub(crate) inner: Decompress,
    pub(crate) gzip: bool,
}

impl Inflater {
    pub(crate) fn zlib(codec: &'static str) -> Self {
        Inflater {
            codec,
            inner: Decompress::new(true),
            gzip: false,
        }
    }

    pub(crate) fn gzip(codec: &'static str) -> Self {
        Inflater {
            codec,
            inner: Decompress::new_gzip(15),
            gzip: true,
        }
    }
}

impl StreamDecoder for Inflater {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> CodecResult<(usize, usize, bool)> {
        let (i0, o0) = (self.inner.total_in(), self.inner.total_out());
        let status = self
            .inner
            .decompress(input, output, FlushDecompress::None)
            .map_err(|e| CodecError::corrupt(self.codec, "invalid DEFLATE data").with_source(e))?;
        let c = (self.inner.total_in() - i0) as usize;
        let p = (self.inner.total_out() - o0) as usize;
        Ok((c, p, status == Status::StreamEnd))
    }

    fn restart(&mut self, _rest: &[u8]) -> CodecResult<bool> {
        if self.gzip {
            // Python's GzipFile reads every member of a multi-member file.
            self.inner = Decompress::new_gzip(15);
            Ok(true)
        } else {
            // zlib.decompress ignores bytes after the end of the stream.
            Ok(false)
        }
    }
}
