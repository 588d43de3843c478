//! The Python peers: one `peers.py serve` process that runs tensorstore and zarr-python workloads.
//!
//! The script is compiled into the harness (so `tessera bench` works without a checkout) and written
//! next to the dataset. The protocol is JSON lines: the script first prints what it found
//! (`{"ready": true, "zarr": "3.1.6", "tensorstore": "0.1.86", ...}`, `null` for a missing library),
//! then answers each [`RunSpec`] line with an [`Outcome`] line (`{"ok": true, ...}`) or
//! `{"ok": false, "error": "..."}`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::Deserialize;

use super::{Backend, Outcome, RunSpec};
use crate::error::{BenchError, BenchResult};

/// The peers script, as shipped in `benches/peers.py`.
pub const PEERS_SCRIPT: &str = include_str!("../../../../benches/peers.py");

/// Versions the peers script reported; `None` for a library it could not import.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PeerVersions {
    /// Python's version.
    pub python: Option<String>,
    /// numpy's version.
    pub numpy: Option<String>,
    /// zarr-python's version.
    pub zarr: Option<String>,
    /// tensorstore's version.
    pub tensorstore: Option<String>,
    /// h5py's version.
    #[serde(default)]
    pub h5py: Option<String>,
    /// hdf5plugin's version (blosc and zstd filters for h5py).
    #[serde(default)]
    pub hdf5plugin: Option<String>,
    /// The tessera Python package's version.
    #[serde(default)]
    pub tessera_python: Option<String>,
}

impl PeerVersions {
    /// Whether `backend` can run.
    pub fn has(&self, backend: Backend) -> bool {
        match backend {
            Backend::Tensorstore => self.tensorstore.is_some(),
            Backend::ZarrPython => self.zarr.is_some(),
            Backend::H5py => self.h5py.is_some(),
            Backend::TesseraPython => self.tessera_python.is_some(),
            _ => false,
        }
    }
}

/// A running `peers.py serve` process.
#[derive(Debug)]
pub struct PeerProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// What the script found.
    pub versions: PeerVersions,
}

impl PeerProcess {
    /// Writes the script to `dir` and starts it with `python`.
    ///
    /// # Errors
    /// [`BenchError::Peer`] when the interpreter does not start or the script does not report ready.
    pub fn start(python: &Path, dir: &Path) -> BenchResult<PeerProcess> {
        let script = dir.join("peers.py");
        std::fs::write(&script, PEERS_SCRIPT).map_err(|e| BenchError::io("writing", &script, e))?;
        let peer_err = |message: String| BenchError::Peer {
            backend: "python".into(),
            message,
        };
        let mut child = Command::new(python)
            .arg(&script)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| peer_err(format!("cannot start {}: {e}", python.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .map_err(|e| peer_err(format!("reading the ready line: {e}")))?;
        let versions: PeerVersions = serde_json::from_str(line.trim())
            .map_err(|e| peer_err(format!("unexpected ready line {line:?}: {e}")))?;
        Ok(PeerProcess {
            child,
            stdin,
            stdout,
            versions,
        })
    }

    /// The process id of the script.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes the raw file `raw` as one HDF5 file per entry of `arrays` (dataset `data`, with its chunks
    /// and filter) and returns each file's size.
    ///
    /// # Errors
    /// [`BenchError::Peer`] with the script's message.
    pub fn prepare_hdf5(
        &mut self,
        raw: &Path,
        typestr: &str,
        shape: &[u64],
        arrays: &[crate::dataset::Hdf5Array],
    ) -> BenchResult<Vec<u64>> {
        let msg = serde_json::json!({
            "op": "hdf5-prepare", "raw": raw, "typestr": typestr, "shape": shape,
            "arrays": arrays.iter().map(|a| serde_json::json!({
                "path": a.path, "chunks": a.chunks, "filter": a.filter,
            })).collect::<Vec<_>>(),
        });
        let value = self.exchange(&msg, "h5py")?;
        serde_json::from_value(value["stored_bytes"].clone()).map_err(|e| BenchError::Peer {
            backend: "h5py".into(),
            message: format!("unexpected answer to hdf5-prepare: {e}"),
        })
    }

    /// Sends one line and reads the answer; an answer without `"ok": true` is an error.
    fn exchange(
        &mut self,
        msg: &serde_json::Value,
        backend: &str,
    ) -> BenchResult<serde_json::Value> {
        let peer_err = |message: String| BenchError::Peer {
            backend: backend.into(),
            message,
        };
        let mut line = serde_json::to_string(msg)?;
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| peer_err(format!("sending a request: {e}")))?;
        let mut reply = String::new();
        let n = self
            .stdout
            .read_line(&mut reply)
            .map_err(|e| peer_err(format!("reading an answer: {e}")))?;
        if n == 0 {
            return Err(peer_err("the process exited".into()));
        }
        let value: serde_json::Value = serde_json::from_str(reply.trim())
            .map_err(|e| peer_err(format!("unexpected answer {reply:?}: {e}")))?;
        if value["ok"] == serde_json::Value::Bool(true) {
            Ok(value)
        } else {
            Err(peer_err(
                value["error"].as_str().unwrap_or("no result").to_string(),
            ))
        }
    }

    /// Runs one spec and returns what the script measured.
    ///
    /// # Errors
    /// [`BenchError::Peer`] with the script's message when the workload failed or the process died.
    pub fn run(&mut self, spec: &RunSpec) -> BenchResult<Outcome> {
        let backend = spec.backend.name();
        let value = self
            .exchange(&serde_json::to_value(spec)?, backend)
            .map_err(|e| match e {
                BenchError::Peer { backend, message } => BenchError::Peer {
                    backend,
                    message: format!("{}: {message}", spec.describe()),
                },
                other => other,
            })?;
        serde_json::from_value(value).map_err(|e| BenchError::Peer {
            backend: backend.into(),
            message: format!("{}: unexpected result: {e}", spec.describe()),
        })
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        // Nothing is pending between workloads: stop the process and reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
