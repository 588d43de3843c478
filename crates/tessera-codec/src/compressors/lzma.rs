//! `lzma`: xz, legacy `.lzma` ("alone") or raw LZMA streams through liblzma, configured as
//! Python's `lzma.compress(data, format, check, preset, filters)`.
//!
//! Spec: <https://tukaani.org/xz/xz-file-format.txt>; numcodecs: `numcodecs/lzma.py`.
//!
//! Config: `format` 1 (xz, default), 2 (alone), 3 (raw; needs `filters`), 0 (auto-detect, decode
//! only); `check` -1 (default: CRC64 for xz), 0 none, 1 CRC32, 4 CRC64, 10 SHA-256; `preset`
//! 0..=9, optionally ORed with `PRESET_EXTREME` (`0x80000000`), null for 6; `filters` null or a
//! list of Python filter specs: `{"id": 33 (LZMA2) or 4611686018427387905 (LZMA1), "preset",
//! "dict_size", "lc", "lp", "pb", "mode", "nice_len", "mf", "depth"}`, `{"id": 3 (delta),
//! "dist"}`, `{"id": 4..=9 (BCJ: x86, powerpc, ia64, arm, armthumb, sparc), "start_offset"}`.
//! Unlike numcodecs, which refuses to decode a non-raw format when `filters` is set, tessera
//! decodes it (xz and alone streams describe their own filters).
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!(
//!     {"id": "lzma", "format": 1, "check": -1, "preset": 1, "filters": null});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(b"abcabcabcabc", 1)?;
//! assert_eq!(chain.decode(&blob, 12, 1)?, b"abcabcabcabc");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use liblzma::stream::{Action, Check, Filters, LzmaOptions, MatchFinder, Mode, Status, Stream};
use serde_json::Value;

use crate::codec::Codec;
use crate::compressors::stream::{StreamDecoder, decode_stream};
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub const ID: &str = "lzma";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["format", "check", "preset", "filters"];

const FORMAT_AUTO: i64 = 0;
const FORMAT_XZ: i64 = 1;
const FORMAT_ALONE: i64 = 2;
const FORMAT_RAW: i64 = 3;
const FILTER_LZMA1: i64 = 0x4000_0000_0000_0001;
const FILTER_LZMA2: i64 = 0x21;
const FILTER_DELTA: i64 = 0x03;
const PRESET_EXTREME: i64 = 0x8000_0000;
const XZ_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];

/// The lzma compressor.
#[derive(Debug, Clone)]
pub struct Lzma {
    format: i64,
    check: i64,
    preset: Option<u32>,
    filters: Option<Vec<Value>>,
}

impl Lzma {
    /// Reads a numcodecs lzma config; defaults as numcodecs (`format` 1, `check` -1, no preset,
    /// no filters).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let format = c.int_or("format", FORMAT_XZ)?;
        if !(FORMAT_AUTO..=FORMAT_RAW).contains(&format) {
            return Err(CodecError::invalid(
                ID,
                format!("format must be 0..=3, got {format}"),
            ));
        }
        let check = c.int_or("check", -1)?;
        if ![-1, 0, 1, 4, 10].contains(&check) {
            return Err(CodecError::invalid(
                ID,
                format!("check must be -1, 0, 1, 4 or 10, got {check}"),
            ));
        }
        let preset = c.opt_int("preset")?.map(preset_value).transpose()?;
        let filters = match c.get("filters") {
            None => None,
            Some(Value::Array(specs)) => Some(specs.clone()),
            Some(v) => {
                return Err(CodecError::invalid(
                    ID,
                    format!("filters must be a list or null, got {v}"),
                ));
            }
        };
        let lzma = Lzma {
            format,
            check,
            preset,
            filters,
        };
        // Build the filter chain once so that a bad spec fails at parse time.
        if let Some(specs) = &lzma.filters {
            build_filters(specs)?;
        }
        if format == FORMAT_RAW && lzma.filters.is_none() {
            return Err(CodecError::invalid(
                ID,
                "format 3 (raw) needs a filter chain",
            ));
        }
        if format != FORMAT_XZ && !matches!(check, -1 | 0) {
            return Err(CodecError::invalid(
                ID,
                "only the xz format has an integrity check",
            ));
        }
        Ok(lzma)
    }

    fn memlimit(out_len: usize) -> u64 {
        (256u64 << 20).max(2 * out_len as u64)
    }

    fn decoder(&self, out_len: usize) -> CodecResult<Stream> {
        let memlimit = Self::memlimit(out_len);
        let s = match self.format {
            FORMAT_XZ => Stream::new_stream_decoder(memlimit, 0),
            FORMAT_ALONE => Stream::new_lzma_decoder(memlimit),
            FORMAT_AUTO => Stream::new_auto_decoder(memlimit, 0),
            _ => Stream::new_raw_decoder(&build_filters(
                self.filters.as_deref().unwrap_or_default(),
            )?),
        };
        s.map_err(|e| CodecError::internal(ID, "cannot create decoder").with_source(e))
    }
}

fn preset_value(p: i64) -> CodecResult<u32> {
    let level = p & !PRESET_EXTREME;
    if !(0..=9).contains(&level) || !(0..=(PRESET_EXTREME | 9)).contains(&p) {
        return Err(CodecError::invalid(ID, format!("invalid preset {p}")));
    }
    Ok(p as u32)
}

fn lzma_options(spec: &Config<'_>) -> CodecResult<LzmaOptions> {
    let preset = preset_value(spec.int_or("preset", 6)?)?;
    let mut o = LzmaOptions::new_preset(preset)
        .map_err(|e| CodecError::invalid(ID, "invalid preset").with_source(e))?;
    let u32_field = |key: &str| -> CodecResult<Option<u32>> {
        spec.opt_int(key)?
            .map(|v| {
                u32::try_from(v).map_err(|_| {
                    CodecError::invalid(ID, format!("filter field {key:?} out of range"))
                })
            })
            .transpose()
    };
    if let Some(v) = u32_field("dict_size")? {
        o.dict_size(v);
    }
    if let Some(v) = u32_field("lc")? {
        o.literal_context_bits(v);
    }
    if let Some(v) = u32_field("lp")? {
        o.literal_position_bits(v);
    }
    if let Some(v) = u32_field("pb")? {
        o.position_bits(v);
    }
    if let Some(v) = u32_field("mode")? {
        o.mode(match v {
            1 => Mode::Fast,
            2 => Mode::Normal,
            _ => return Err(CodecError::invalid(ID, format!("invalid mode {v}"))),
        });
    }
    if let Some(v) = u32_field("nice_len")? {
        o.nice_len(v);
    }
    if let Some(v) = u32_field("mf")? {
        o.match_finder(match v {
            0x03 => MatchFinder::HashChain3,
            0x04 => MatchFinder::HashChain4,
            0x12 => MatchFinder::BinaryTree2,
            0x13 => MatchFinder::BinaryTree3,
            0x14 => MatchFinder::BinaryTree4,
            _ => return Err(CodecError::invalid(ID, format!("invalid match finder {v}"))),
        });
    }
    if let Some(v) = u32_field("depth")? {
        o.depth(v);
    }
    Ok(o)
}

/// The keys of one filter spec besides `"id"`, as Python's `lzma` module takes them.
fn filter_fields(spec: &Value) -> &'static [&'static str] {
    match spec.get("id").and_then(Value::as_i64) {
        Some(FILTER_LZMA1 | FILTER_LZMA2) => &[
            "preset",
            "dict_size",
            "lc",
            "lp",
            "pb",
            "mode",
            "nice_len",
            "mf",
            "depth",
        ],
        Some(FILTER_DELTA) => &["dist"],
        Some(4..=9) => &["start_offset"],
        // An unknown or missing filter id is reported by `build_filters`.
        _ => &[
            "preset",
            "dict_size",
            "lc",
            "lp",
            "pb",
            "mode",
            "nice_len",
            "mf",
            "depth",
            "dist",
            "start_offset",
        ],
    }
}

fn build_filters(specs: &[Value]) -> CodecResult<Filters> {
    let mut f = Filters::new();
    if specs.is_empty() || specs.len() > 4 {
        return Err(CodecError::invalid(ID, "a filter chain has 1 to 4 filters"));
    }
    for spec in specs {
        let c = Config::new(ID, spec, filter_fields(spec))?;
        let id = c.required_int("id")?;
        let bad_props =
            |e| CodecError::invalid(ID, format!("invalid options for filter {id}")).with_source(e);
        match id {
            FILTER_LZMA1 => {
                f.lzma1(&lzma_options(&c)?);
            }
            FILTER_LZMA2 => {
                f.lzma2(&lzma_options(&c)?);
            }
            FILTER_DELTA => {
                let dist = c.int_or("dist", 1)?;
                if !(1..=256).contains(&dist) {
                    return Err(CodecError::invalid(
                        ID,
                        format!("delta dist must be 1..=256, got {dist}"),
                    ));
                }
                f.delta_properties(&[(dist - 1) as u8]).map_err(bad_props)?;
            }
            4..=9 => {
                let off = c.int_or("start_offset", 0)?;
                let off = u32::try_from(off)
                    .map_err(|_| CodecError::invalid(ID, "start_offset out of range"))?;
                let props: &[u8] = &off.to_le_bytes();
                let props = if off == 0 { &[][..] } else { props };
                match id {
                    4 => f.x86_properties(props),
                    5 => f.powerpc_properties(props),
                    6 => f.ia64_properties(props),
                    7 => f.arm_properties(props),
                    8 => f.arm_thumb_properties(props),
                    _ => f.sparc_properties(props),
                }
                .map_err(bad_props)?;
            }
            _ => return Err(CodecError::unsupported(ID, format!("lzma filter id {id}"))),
        }
    }
    Ok(f)
}

struct Unxz {
    stream: Stream,
    format: i64,
}

impl StreamDecoder for Unxz {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> CodecResult<(usize, usize, bool)> {
        let (i0, o0) = (self.stream.total_in(), self.stream.total_out());
        let status = self
            .stream
            .process(input, output, Action::Run)
            .map_err(|e| {
                let kind = match e {
                    liblzma::stream::Error::MemLimit | liblzma::stream::Error::Mem => {
                        CodecErrorKind::TooLarge
                    }
                    liblzma::stream::Error::Options => CodecErrorKind::Unsupported,
                    _ => CodecErrorKind::Corrupt,
                };
                CodecError::new(kind, ID, format!("decoding failed: {e:?}"))
            })?;
        let c = (self.stream.total_in() - i0) as usize;
        let p = (self.stream.total_out() - o0) as usize;
        Ok((c, p, status == Status::StreamEnd))
    }

    fn restart(&mut self, rest: &[u8]) -> CodecResult<bool> {
        // Python's lzma.decompress decodes concatenated xz streams and ignores what follows
        // the last one.
        if matches!(self.format, FORMAT_XZ | FORMAT_AUTO) && rest.starts_with(&XZ_MAGIC) {
            self.stream = Stream::new_stream_decoder(self.stream.memlimit(), 0)
                .map_err(|e| CodecError::internal(ID, "cannot create decoder").with_source(e))?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

impl Codec for Lzma {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let filters = self.filters.as_deref().map(build_filters).transpose()?;
        if filters.is_some() && self.preset.is_some() {
            return Err(CodecError::invalid(
                ID,
                "cannot specify both preset and filters",
            ));
        }
        let preset = self.preset.unwrap_or(6);
        let internal = |e: liblzma::stream::Error| {
            CodecError::invalid(ID, "cannot create encoder").with_source(e)
        };
        let mut stream = match self.format {
            FORMAT_XZ => {
                let check = match self.check {
                    0 => Check::None,
                    1 => Check::Crc32,
                    10 => Check::Sha256,
                    _ => Check::Crc64,
                };
                match &filters {
                    None => Stream::new_easy_encoder(preset, check),
                    Some(f) => Stream::new_stream_encoder(f, check),
                }
            }
            FORMAT_ALONE => {
                let opts = match &self.filters {
                    None => LzmaOptions::new_preset(preset).map_err(internal)?,
                    Some(specs) => {
                        let spec = Config::new(ID, &specs[0], filter_fields(&specs[0]))?;
                        if specs.len() != 1 || spec.required_int("id")? != FILTER_LZMA1 {
                            return Err(CodecError::invalid(
                                ID,
                                "format 2 (alone) takes exactly one LZMA1 filter",
                            ));
                        }
                        lzma_options(&spec)?
                    }
                };
                Stream::new_lzma_encoder(&opts)
            }
            FORMAT_RAW => Stream::new_raw_encoder(filters.as_ref().expect("checked at parse time")),
            _ => return Err(CodecError::invalid(ID, "format 0 (auto) can only decode")),
        }
        .map_err(internal)?;
        let mut out = Vec::with_capacity(input.len() / 2 + 256);
        loop {
            let consumed = stream.total_in() as usize;
            if out.capacity() - out.len() < 256 {
                out.reserve(out.capacity() / 2 + 256);
            }
            match stream.process_vec(&input[consumed..], &mut out, Action::Finish) {
                Ok(Status::StreamEnd) => return Ok(out),
                Ok(_) => continue,
                Err(e) => return Err(CodecError::internal(ID, "compression failed").with_source(e)),
            }
        }
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if self.format == FORMAT_ALONE && input.len() >= 13 {
            let declared = u64::from_le_bytes(input[5..13].try_into().expect("8 bytes"));
            if declared != u64::MAX && declared != out.len() as u64 {
                return Err(CodecError::size(ID, out.len(), declared));
            }
        }
        decode_stream(
            ID,
            &mut Unxz {
                stream: self.decoder(out.len())?,
                format: self.format,
            },
            input,
            out,
        )
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }

    fn decode_unsized(
        &self,
        input: &[u8],
        max_len: usize,
        _itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        let mut dec = Unxz {
            stream: self.decoder(max_len)?,
            format: self.format,
        };
        crate::compressors::stream::decode_stream_unsized(ID, &mut dec, input, max_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(config: Value) {
        let l = Lzma::from_json(&config).unwrap();
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| ((i as f32).sin() * 100.0).to_le_bytes())
            .collect();
        let enc = l.encode(&data, 4).unwrap();
        let mut out = vec![0u8; data.len()];
        l.decode_into(&enc, &mut out, 4).unwrap();
        assert_eq!(out, data, "{config}");
    }

    #[test]
    fn roundtrips_formats_checks_and_filters() {
        roundtrip(json!({"id": "lzma"}));
        for check in [-1, 0, 1, 4, 10] {
            roundtrip(
                json!({"id": "lzma", "format": 1, "check": check, "preset": 1, "filters": null}),
            );
        }
        roundtrip(json!({"id": "lzma", "format": 1, "preset": 9 | 0x8000_0000u32}));
        roundtrip(json!({"id": "lzma", "format": 2, "check": -1, "preset": 3, "filters": null}));
        let filters = json!([{"id": 3, "dist": 4}, {"id": 33, "preset": 1}]);
        roundtrip(json!({"id": "lzma", "format": 1, "filters": filters}));
        roundtrip(json!({"id": "lzma", "format": 3, "filters": filters}));
        roundtrip(
            json!({"id": "lzma", "format": 2, "filters": [{"id": FILTER_LZMA1, "preset": 6, "dict_size": 1 << 16, "lc": 0, "lp": 2, "pb": 2}]}),
        );
    }

    #[test]
    fn rejects_bad_configs() {
        for bad in [
            json!({"id": "lzma", "format": 7}),
            json!({"id": "lzma", "check": 3}),
            json!({"id": "lzma", "format": 3}),
            json!({"id": "lzma", "filters": [{"id": 99}]}),
        ] {
            assert!(Lzma::from_json(&bad).is_err(), "{bad}");
        }
    }
}
