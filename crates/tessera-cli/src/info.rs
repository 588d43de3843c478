//! `tessera info`: the hierarchy as a tree, or as a JSON document.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Map, Value, json};
use tessera_array::{Array, NodeKind, NodePath, Order};

use crate::cli::InfoArgs;
use crate::error::{CliError, CliResult, Context};
use crate::hierarchy::{Hierarchy, Node};
use crate::memory::human_bytes;
use crate::options::{node_path, open_existing};

/// Version of the `--json` document layout; bumped only on incompatible changes.
pub const JSON_FORMAT: u64 = 1;

/// One node of the report.
struct NodeReport {
    node: Node,
    array: Option<ArrayReport>,
}

impl NodeReport {
    fn attributes(&self) -> Option<&Map<String, Value>> {
        self.node.state.as_ref().ok().map(|o| &o.attributes)
    }
}

struct ArrayReport {
    array: Array,
    /// `None` when the store cannot list its keys (plain HTTP): the counts are unknown.
    stored: Option<Stored>,
}

/// An array's stored chunks (or shards), counted by listing the store.
#[derive(Clone, Copy, Default)]
struct Stored {
    chunks: u64,
    bytes: u64,
}

impl ArrayReport {
    fn total_chunks(&self) -> u128 {
        self.array
            .metadata()
            .grid_shape()
            .iter()
            .map(|&g| u128::from(g))
            .product()
    }

    /// Bytes the array holds when every element is materialised.
    fn nbytes(&self) -> u128 {
        self.array
            .shape()
            .iter()
            .map(|&s| u128::from(s))
            .product::<u128>()
            * self.array.dtype().itemsize() as u128
    }

    /// Decoded size of the stored chunks: what the text view shows as "decoded".
    fn stored_decoded_bytes(&self, stored: Stored) -> u128 {
        u128::from(stored.chunks) * self.array.metadata().chunk_bytes() as u128
    }

    /// Decoded size of the stored chunks divided by their stored size.
    fn ratio(&self, stored: Stored) -> Option<f64> {
        let decoded = self.stored_decoded_bytes(stored) as f64;
        (stored.bytes > 0).then(|| decoded / stored.bytes as f64)
    }
}

/// Runs `tessera info`: every node is listed, also after one fails to open; the command fails (after
/// printing everything) when any did.
pub fn run(args: &InfoArgs) -> CliResult<()> {
    let target = node_path(args.array.as_deref())?;
    let store = open_existing(&args.store)?;
    let hierarchy = Hierarchy::open(store.clone(), &args.store, &target)?;
    let nodes = hierarchy.nodes(&target)?;

    let mut reports = Vec::with_capacity(nodes.len());
    let mut arrays: HashMap<String, usize> = HashMap::new();
    for mut node in nodes {
        let array = node.state.as_mut().ok().and_then(|o| o.array.take());
        let array = array.map(|array| {
            arrays.insert(node.path.as_str().to_string(), reports.len());
            ArrayReport {
                array,
                stored: Some(Stored::default()),
            }
        });
        reports.push(NodeReport { node, array });
    }
    count_stored_chunks(&hierarchy, &target, &mut reports, &arrays)?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        let doc = json_document(&args.store, &target, hierarchy.is_consolidated(), &reports);
        // Serialised first: serde_json's error would hide a broken pipe from `is_broken_pipe`.
        let text = serde_json::to_string_pretty(&doc).context("formatting the report")?;
        writeln!(out, "{text}").context("writing the report")?;
    } else {
        write_tree(&mut out, &args.store, hierarchy.is_consolidated(), &reports)
            .context("writing the report")?;
    }
    out.flush().context("writing the report")?;
    let failed: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.node
                .state
                .as_ref()
                .err()
                .map(|problem| format!("{} ({problem})", r.node.path))
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(CliError::new(format!(
        "{} of {} nodes could not be read: {}",
        failed.len(),
        reports.len(),
        failed.join("; ")
    )))
}

/// Counts every array's stored chunks and bytes with one listing of the target's prefix: the cost
/// follows the number of stored keys, never the size of the chunk grid.
fn count_stored_chunks(
    hierarchy: &Hierarchy,
    target: &NodePath,
    reports: &mut [NodeReport],
    arrays: &HashMap<String, usize>,
) -> CliResult<()> {
    if arrays.is_empty() {
        return Ok(());
    }
    let listing = match hierarchy.store().list_prefix_sizes(&target.prefix()) {
        Ok(listing) => listing,
        // A store that cannot list (plain HTTP) still shows everything else; the counts are
        // unknown, not zero, and the reason goes to stderr.
        Err(e) => {
            eprintln!("tessera: stored chunk counts unknown: listing the keys under {target}: {e}");
            for report in reports.iter_mut().filter_map(|r| r.array.as_mut()) {
                report.stored = None;
            }
            return Ok(());
        }
    };
    for (key, size) in listing {
        // The array owning a chunk key is the longest array path that prefixes it.
        let key = key.as_str();
        let mut owner = None;
        let mut end = key.len();
        while let Some(slash) = key[..end].rfind('/') {
            if let Some(&i) = arrays.get(&key[..slash]) {
                owner = Some((i, &key[slash + 1..]));
                break;
            }
            end = slash;
        }
        if owner.is_none()
            && let Some(&i) = arrays.get("")
        {
            owner = Some((i, key));
        }
        let Some((i, name)) = owner else { continue };
        let Some(report) = reports[i].array.as_mut() else {
            continue;
        };
        let grid = report.array.metadata().grid_shape();
        if report
            .array
            .parse_chunk_name(name)
            .is_some_and(|c| c.iter().zip(&grid).all(|(i, g)| i < g))
            && let Some(stored) = report.stored.as_mut()
        {
            stored.chunks += 1;
            stored.bytes += size;
        }
    }
    Ok(())
}

fn kind_name(kind: Option<NodeKind>) -> &'static str {
    match kind {
        Some(NodeKind::Array) => "array",
        Some(NodeKind::Group) => "group",
        None => "unknown",
    }
}

fn order_name(order: Order) -> &'static str {
    match order {
        Order::C => "C",
        Order::F => "F",
    }
}

fn json_document(
    store: &str,
    target: &NodePath,
    consolidated: bool,
    reports: &[NodeReport],
) -> Value {
    let nodes: Vec<Value> = reports
        .iter()
        .map(|r| {
            let mut node = Map::new();
            node.insert("path".into(), Value::from(r.node.path.as_str()));
            node.insert("kind".into(), Value::from(kind_name(r.node.kind)));
            node.insert(
                "error".into(),
                match &r.node.state {
                    Ok(_) => Value::Null,
                    Err(problem) => json!({
                        "kind": problem.kind.name(),
                        "message": problem.message,
                    }),
                },
            );
            if let Some(a) = &r.array {
                let meta = a.array.metadata();
                node.insert("shape".into(), json!(meta.shape));
                // As zarr-python: `chunks` are the chunks encoded one by one (inner chunks of shards).
                node.insert("chunks".into(), json!(meta.inner_chunk_shape()));
                node.insert("zarr_format".into(), json!(meta.format.number()));
                node.insert("shards".into(), json!(meta.shard_shape()));
                node.insert("dimension_names".into(), json!(meta.dimension_names));
                if let Some(codecs) = meta.codecs_json() {
                    node.insert("codecs".into(), codecs.clone());
                }
                node.insert("dtype".into(), meta.dtype.to_json());
                node.insert("itemsize".into(), json!(meta.dtype.itemsize()));
                node.insert("order".into(), json!(order_name(meta.order)));
                node.insert(
                    "dimension_separator".into(),
                    json!(meta.separator.as_char().to_string()),
                );
                node.insert(
                    "compressor".into(),
                    meta.compressor.clone().unwrap_or(Value::Null),
                );
                node.insert(
                    "filters".into(),
                    meta.filters.clone().map_or(Value::Null, Value::from),
                );
                node.insert("fill_value".into(), meta.fill_value.to_json());
                node.insert("chunk_grid".into(), json!(meta.grid_shape()));
                node.insert("chunks_total".into(), big_number(a.total_chunks()));
                // Unknown counts (a store that cannot list) are null.
                let stored = a.stored;
                node.insert("chunks_stored".into(), json!(stored.map(|s| s.chunks)));
                node.insert("stored_bytes".into(), json!(stored.map(|s| s.bytes)));
                node.insert("nbytes".into(), big_number(a.nbytes()));
                node.insert(
                    "stored_decoded_bytes".into(),
                    stored.map_or(Value::Null, |s| big_number(a.stored_decoded_bytes(s))),
                );
                node.insert(
                    "compression_ratio".into(),
                    stored
                        .and_then(|s| a.ratio(s))
                        .map_or(Value::Null, |r| json!((r * 1000.0).round() / 1000.0)),
                );
            }
            if let Some(attributes) = r.attributes() {
                node.insert("attributes".into(), Value::Object(attributes.clone()));
            }
            Value::Object(node)
        })
        .collect();
    json!({
        "format": "tessera-info",
        "version": JSON_FORMAT,
        "store": store,
        "path": target.as_str(),
        "consolidated": consolidated,
        "nodes": nodes,
    })
}

/// A count as a JSON number when it fits in u64 (every realistic case), else as a decimal string.
fn big_number(n: u128) -> Value {
    u64::try_from(n).map_or_else(|_| Value::from(n.to_string()), Value::from)
}

fn compact(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn codec_text(config: Option<&Value>) -> String {
    let Some(Value::Object(obj)) = config else {
        return "none".into();
    };
    let id = obj.get("id").and_then(Value::as_str).unwrap_or("?");
    let params: Vec<String> = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "id")
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )
        })
        .collect();
    if params.is_empty() {
        id.to_string()
    } else {
        format!("{id}({})", params.join(", "))
    }
}

/// A v3 codec list as `bytes(endian=little), zstd(level=0, checksum=false)`; sharding shows its inner
/// list in brackets.
fn v3_codecs_text(codecs: &Value) -> String {
    let Some(list) = codecs.as_array() else {
        return compact(codecs, 100);
    };
    list.iter()
        .map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let Some(Value::Object(config)) = c.get("configuration") else {
                return name.to_string();
            };
            let params: Vec<String> = config
                .iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("codecs" | "index_codecs", list @ Value::Array(_)) => {
                        format!("{k}=[{}]", v3_codecs_text(list))
                    }
                    (_, Value::String(s)) => format!("{k}={s}"),
                    _ => format!("{k}={v}"),
                })
                .collect();
            format!("{name}({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn dims(values: &[u64]) -> String {
    format!(
        "[{}]",
        values
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn write_tree(
    out: &mut impl Write,
    store: &str,
    consolidated: bool,
    reports: &[NodeReport],
) -> std::io::Result<()> {
    // Children of each node, in the (sorted, depth-first) order of the walk.
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in reports.iter().enumerate().skip(1) {
        children
            .entry(r.node.path.parent().as_str().to_string())
            .or_default()
            .push(i);
    }
    let Some(top) = reports.first() else {
        return Ok(());
    };
    let title = if top.node.path.is_root() {
        store.to_string()
    } else {
        format!("{store} {}", top.node.path)
    };
    write_node(out, reports, &children, 0, &title, consolidated, "", "")
}

#[allow(clippy::too_many_arguments)]
fn write_node(
    out: &mut impl Write,
    reports: &[NodeReport],
    children: &HashMap<String, Vec<usize>>,
    index: usize,
    name: &str,
    consolidated: bool,
    lead: &str,
    body: &str,
) -> std::io::Result<()> {
    let r = &reports[index];
    let kids = children
        .get(r.node.path.as_str())
        .map_or(&[][..], Vec::as_slice);
    let kind = match (r.node.kind, index == 0 && consolidated) {
        (Some(NodeKind::Group), true) => "group, consolidated metadata",
        (kind, _) => kind_name(kind),
    };
    let failed = if r.node.state.is_err() {
        ", cannot be read"
    } else {
        ""
    };
    writeln!(out, "{lead}{name}  ({kind}{failed})")?;
    // Detail lines hang under the node, beside the branch that continues to its children.
    let detail = if kids.is_empty() {
        format!("{body}    ")
    } else {
        format!("{body}│   ")
    };
    if let Some(a) = &r.array {
        let meta = a.array.metadata();
        let grid = meta.grid_shape();
        writeln!(out, "{detail}format      Zarr v{}", meta.format.number())?;
        writeln!(out, "{detail}shape       {}", dims(&meta.shape))?;
        if let Some(names) = &meta.dimension_names {
            let names: Vec<&str> = names.iter().map(|n| n.as_deref().unwrap_or("-")).collect();
            writeln!(out, "{detail}dims        [{}]", names.join(", "))?;
        }
        match meta.shard_shape() {
            Some(shards) => {
                writeln!(
                    out,
                    "{detail}shards      {}  (grid {})",
                    dims(shards),
                    dims(&grid)
                )?;
                writeln!(
                    out,
                    "{detail}chunks      {}  (inside shards)",
                    dims(meta.inner_chunk_shape())
                )?;
            }
            None => writeln!(
                out,
                "{detail}chunks      {}  (grid {})",
                dims(&meta.chunks),
                dims(&grid)
            )?,
        }
        writeln!(
            out,
            "{detail}dtype       {}",
            crate::objects::dtype_text(&a.array)
        )?;
        writeln!(
            out,
            "{detail}order       {}   separator {}",
            order_name(meta.order),
            meta.separator.as_char()
        )?;
        if let Some(codecs) = meta.codecs_json() {
            writeln!(out, "{detail}codecs      {}", v3_codecs_text(codecs))?;
        } else {
            writeln!(
                out,
                "{detail}compressor  {}",
                codec_text(meta.compressor.as_ref())
            )?;
            let filters = match &meta.filters {
                None => "none".to_string(),
                Some(list) => list
                    .iter()
                    .map(|f| codec_text(Some(f)))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            writeln!(out, "{detail}filters     {filters}")?;
        }
        writeln!(out, "{detail}fill value  {}", meta.fill_value.to_json())?;
        // The same figure as --json's "nbytes": every element, stored or not.
        let nbytes = a.nbytes();
        let human = human_bytes(u64::try_from(nbytes).unwrap_or(u64::MAX));
        if human.ends_with(" B") {
            writeln!(out, "{detail}nbytes      {human}")?;
        } else {
            writeln!(out, "{detail}nbytes      {human} ({nbytes} B)")?;
        }
        let unit = if meta.shard_shape().is_some() {
            "shards"
        } else {
            "chunks"
        };
        match a.stored {
            Some(stored) => {
                let ratio = a
                    .ratio(stored)
                    .map_or_else(String::new, |r| format!(", ratio {r:.2}x"));
                let decoded = a.stored_decoded_bytes(stored);
                writeln!(
                    out,
                    "{detail}stored      {} of {} {unit}, {} ({} decoded{ratio})",
                    stored.chunks,
                    a.total_chunks(),
                    human_bytes(stored.bytes),
                    human_bytes(u64::try_from(decoded).unwrap_or(u64::MAX)),
                )?;
            }
            None => writeln!(
                out,
                "{detail}stored      unknown of {} {unit} (the store cannot list its keys)",
                a.total_chunks()
            )?,
        }
    }
    if let Err(problem) = &r.node.state {
        writeln!(out, "{detail}error       {problem}")?;
    }
    for (k, v) in r.attributes().into_iter().flatten() {
        writeln!(out, "{detail}@{k} = {}", compact(v, 100))?;
    }
    for (pos, &child) in kids.iter().enumerate() {
        let last = pos + 1 == kids.len();
        let (branch, next) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let child_lead = format!("{body}{branch}");
        let child_body = format!("{body}{next}");
        write_node(
            out,
            reports,
            children,
            child,
            reports[child].node.path.name(),
            false,
            &child_lead,
            &child_body,
        )?;
    }
    Ok(())
}
