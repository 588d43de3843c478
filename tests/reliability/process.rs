//! Child processes: this test binary run again with `--exact reliability::process::child_role` and a
//! role in the environment. Every child is killed when its [`Running`] handle is dropped, so a failing
//! test leaves no process behind, and every wait is bounded by [`CHILD_TIMEOUT`].

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable naming a child's role.
pub const ROLE: &str = "TESSERA_RELIABILITY_ROLE";
/// How long any child may take before it is killed and the test fails.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether this process is a child (tests other than [`child_role`] then do nothing).
pub fn is_child() -> bool {
    std::env::var_os(ROLE).is_some()
}

/// A required environment variable of a child role.
pub fn arg(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child role needs {name}"))
}

/// The child's side: does nothing unless started by [`child`].
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    // libtest has printed `test ... ` without a newline: start the role's output on a line of its own.
    println!();
    match role.as_str() {
        "rewrite-chunks" => super::crash::rewrite_chunks(),
        "update-metadata" => super::crash::update_metadata(),
        "write-after-crash" => super::crash::write_after_crash(),
        "write-regions" => super::concurrent::write_regions(),
        "update-boxes" => super::shared_chunks::update_boxes(),
        "append-rows" => super::appenders::append_rows(),
        "read-generations" => super::readers::read_generations(),
        "read-bad-chunk" => super::bad_input::read_bad_chunk(),
        other => panic!("unknown child role {other}"),
    }
    println!("child {role} done");
}

/// A command running this test binary as a child with `role`.
pub fn child(role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args([
        "reliability::process::child_role",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// A running child: its stdout lines arrive on a channel, its stderr is collected.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    what: String,
}

impl Running {
    /// Starts `cmd` (made by [`child`] or any command with piped stdout and stderr).
    pub fn start(mut cmd: Command, what: impl Into<String>) -> Running {
        let mut child = cmd.spawn().expect("the child starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Running {
            child,
            lines,
            stderr,
            what: what.into(),
        }
    }

    /// Waits for a stdout line starting with `prefix` and returns it.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + CHILD_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: no {prefix:?} line within {CHILD_TIMEOUT:?}", self.what)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "{}: exited ({status:?}) before printing {prefix:?}\n{}",
                        self.what,
                        self.stderr()
                    )
                }
            }
        }
    }

    /// The stdout lines received so far (and not consumed by [`wait_for`](Self::wait_for)).
    pub fn drain(&mut self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// What the child wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGKILL and reaps the child; returns the stdout lines it printed before dying.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread sees EOF once the pipe's last writer is gone.
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        lines
    }

    /// Waits up to `timeout` for the child to exit (killing it and failing after that); returns its
    /// status, stdout and stderr.
    pub fn outcome(mut self, timeout: Duration) -> (std::process::ExitStatus, String, String) {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: still running after {timeout:?}", self.what)
                }
            }
        }
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child is reaped") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: still running after {timeout:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        // The stderr thread finishes at EOF, right after the exit.
        let stderr_deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.stderr) > 1 && Instant::now() < stderr_deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        (status, lines.join("\n"), self.stderr())
    }

    /// Waits (bounded) for a successful exit after `child role ... done`; returns the stdout lines.
    pub fn finish(self) -> Vec<String> {
        let what = self.what.clone();
        let (status, stdout, stderr) = self.outcome(CHILD_TIMEOUT);
        let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
        assert!(
            status.success()
                && lines
                    .iter()
                    .any(|l| l.starts_with("child ") && l.ends_with(" done")),
            "{what}: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        lines
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
