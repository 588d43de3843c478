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

    /// Runs one spec and returns what the script measured.
    ///
    /// # Errors
    /// [`BenchError::Peer`] with the script's message when the workload failed or the process died.
    pub fn run(&mut self, spec: &RunSpec) -> BenchResult<Outcome> {
        let peer_err = |message: String| BenchError::Peer {
            backend: spec.backend.name().into(),
            message,
        };
        let mut line = serde_json::to_string(spec)?;
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| peer_err(format!("sending a workload: {e}")))?;
        let mut reply = String::new();
        let n = self
            .stdout
            .read_line(&mut reply)
            .map_err(|e| peer_err(format!("reading a result: {e}")))?;
        if n == 0 {
            return Err(peer_err("the process exited".into()));
        }
        let value: serde_json::Value = serde_json::from_str(reply.trim())
            .map_err(|e| peer_err(format!("unexpected result {reply:?}: {e}")))?;
        if value["ok"] == serde_json::Value::Bool(true) {
            return serde_json::from_value(value)
                .map_err(|e| peer_err(format!("unexpected result {reply:?}: {e}")));
        }
        Err(peer_err(format!(
            "{}: {}",
            spec.describe(),
            value["error"].as_str().unwrap_or("no result")
        )))
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        // Nothing is pending between workloads: stop the process and reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
