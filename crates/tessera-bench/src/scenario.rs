//! Scenarios: where the arrays live while the workloads run.
//!
//! - `local`: this machine's file system and page cache, cold and warm (the default).
//! - `disk`: the cold workloads again, with every reader in a block-I/O cgroup whose read bandwidth on the
//!   data directory's device is throttled by the kernel ([`Throttle`]): a real slow disk, not a model.
//! - `s3`: warm reads over S3 on loopback, through a link adding latency and a bandwidth cap
//!   ([`crate::s3`]).

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::args::parse_size;
use crate::error::{BenchError, BenchResult};

/// A scenario as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ScenarioKind {
    /// This machine's file system, cold and warm.
    Local,
    /// Cold reads from a block-I/O-throttled device (`--disk-bandwidth`).
    Disk,
    /// Reads over S3 on loopback behind a latency and bandwidth link (`--s3-latency-ms`,
    /// `--s3-bandwidth`).
    S3,
    /// Every scenario.
    All,
}

impl ScenarioKind {
    /// The scenarios a list of kinds stands for, in run order, each once (never `All`).
    pub fn expand(kinds: &[ScenarioKind]) -> Vec<ScenarioKind> {
        let mut out: Vec<ScenarioKind> = kinds
            .iter()
            .flat_map(|k| match k {
                ScenarioKind::All => {
                    vec![ScenarioKind::Local, ScenarioKind::Disk, ScenarioKind::S3]
                }
                other => vec![*other],
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A bandwidth as given on the command line (`200M`, `1.5GB`: [`parse_size`] units per second), with
/// the text it was given as, which names the scenario (`disk-200M`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Bytes per second.
    pub bytes_per_second: u64,
    /// The text as given.
    pub text: String,
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a bandwidth: a size per second, at least 1 KiB/s (`200M` is 200 MiB/s).
///
/// # Errors
/// A message naming the input when it is not a size or is below 1 KiB.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let t = text.trim();
    let bytes = parse_size(t.strip_suffix("/s").unwrap_or(t))?;
    if bytes < 1024 {
        return Err(format!("{text:?} is below 1 KiB/s"));
    }
    Ok(Rate {
        bytes_per_second: bytes,
        text: t.strip_suffix("/s").unwrap_or(t).to_string(),
    })
}

/// A block-I/O cgroup limiting reads from one device to a bandwidth; removed when dropped.
///
/// Readers join it by writing their process id to [`procs_file`](Throttle::procs_file) (workload
/// children do so first thing; the Python peers process is moved there before it is sent any work).
/// cgroup v2 (`io.max`, `rbps=`) and v1 (`blkio.throttle.read_bps_device`) are both handled; either
/// needs root. The limit applies to reads that reach the device: the cold workloads, whose files the
/// harness evicts from the page cache first.
#[derive(Debug)]
pub struct Throttle {
    dir: PathBuf,
    procs: PathBuf,
    /// The throttled device, `MAJ:MIN` of the whole disk holding the data directory.
    pub device: String,
    /// The read limit.
    pub rate: Rate,
}

impl Throttle {
    /// Creates a cgroup throttling reads of the device that holds `data_dir` to `rate`.
    ///
    /// # Errors
    /// [`BenchError::Throttle`] naming why not (not root, no block-I/O controller, the directory is not
    /// on a block device): the caller prints it and skips the scenario.
    pub fn create(data_dir: &Path, rate: &Rate) -> BenchResult<Throttle> {
        let fail = |m: String| BenchError::Throttle(m);
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err(fail(
                "needs root (it creates a block-I/O cgroup); run as root or leave out --scenario disk"
                    .into(),
            ));
        }
        let device = whole_disk(data_dir)?;
        let name = format!("tessera-bench-{}", std::process::id());
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers");
        let v1 = Path::new("/sys/fs/cgroup/blkio");
        let (dir, limit_file, limit) =
            if std::fs::read_to_string(v2).is_ok_and(|c| c.split_whitespace().any(|w| w == "io")) {
                // The io controller must be enabled for the root's children.
                let control = Path::new("/sys/fs/cgroup/cgroup.subtree_control");
                std::fs::write(control, "+io").map_err(|e| {
                    fail(format!(
                        "enabling the io controller in {}: {e}",
                        control.display()
                    ))
                })?;
                (
                    Path::new("/sys/fs/cgroup").join(&name),
                    "io.max",
                    format!("{device} rbps={}", rate.bytes_per_second),
                )
            } else if v1.join("blkio.throttle.read_bps_device").exists() {
                (
                    v1.join(&name),
                    "blkio.throttle.read_bps_device",
                    format!("{device} {}", rate.bytes_per_second),
                )
            } else {
                return Err(fail(
                "no cgroup v2 io controller and no cgroup v1 blkio throttle under /sys/fs/cgroup"
                    .into(),
            ));
            };
        std::fs::create_dir(&dir).map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
        let throttle = Throttle {
            procs: dir.join("cgroup.procs"),
            dir,
            device,
            rate: rate.clone(),
        };
        let path = throttle.dir.join(limit_file);
        std::fs::write(&path, &limit)
            .map_err(|e| fail(format!("writing {limit:?} to {}: {e}", path.display())))?;
        Ok(throttle)
    }

    /// The file a process writes its id to, to join the cgroup.
    pub fn procs_file(&self) -> &Path {
        &self.procs
    }

    /// Moves the process `pid` (every thread of it) into the cgroup.
    ///
    /// # Errors
    /// [`BenchError::Throttle`] when the kernel refuses.
    pub fn add(&self, pid: u32) -> BenchResult<()> {
        join(&self.procs, pid)
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        // The children have exited; a cgroup without processes can be removed. A process that has
        // just exited may take a moment to leave, hence the few tries.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        eprintln!("could not remove the cgroup {}", self.dir.display());
    }
}

/// Writes `pid` to a cgroup's `cgroup.procs`.
///
/// # Errors
/// [`BenchError::Throttle`] when the kernel refuses.
pub fn join(procs: &Path, pid: u32) -> BenchResult<()> {
    std::fs::write(procs, pid.to_string()).map_err(|e| {
        BenchError::Throttle(format!(
            "moving process {pid} into {}: {e}",
            procs.display()
        ))
    })
}

/// `MAJ:MIN` of the whole disk holding `path` (a partition's parent disk: the throttle takes disks).
fn whole_disk(path: &Path) -> BenchResult<String> {
    let meta = std::fs::metadata(path).map_err(|e| BenchError::io("inspecting", path, e))?;
    let dev = meta.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sys = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    if !sys.exists() {
        return Err(BenchError::Throttle(format!(
            "{} is on device {major}:{minor}, which is not a block device (tmpfs, overlay, btrfs or a \
             network file system?); pass --dir on a disk-backed file system",
            path.display()
        )));
    }
    if sys.join("partition").exists() {
        let parent = sys.join("..").join("dev");
        let text =
            std::fs::read_to_string(&parent).map_err(|e| BenchError::io("reading", &parent, e))?;
        return Ok(text.trim().to_string());
    }
    Ok(format!("{major}:{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        let r = parse_rate("200M").unwrap();
        assert_eq!(r.bytes_per_second, 200 << 20);
        assert_eq!(r.text, "200M");
        assert_eq!(parse_rate("1GB/s").unwrap().bytes_per_second, 1_000_000_000);
        assert!(parse_rate("12").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn all_expands_once() {
        use ScenarioKind::*;
        assert_eq!(
            ScenarioKind::expand(&[Disk, All, Local]),
            vec![Local, Disk, S3]
        );
    }
}
