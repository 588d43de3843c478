//! The memory budget of a command: `--memory-limit`, its default from `/proc/meminfo`, and the
//! allocator settings that let freed buffers actually leave the process.

use crate::error::CliResult;
use crate::options::parse_bytes;

/// Smallest budget accepted: below this the fixed costs (buffers of a single chunk, thread stacks)
/// dominate and no plan can promise anything.
pub const MIN_LIMIT: u64 = 4 << 20;

/// Default budget when /proc/meminfo cannot be read.
const FALLBACK_LIMIT: u64 = 1 << 30;

/// The budget from `--memory-limit`, or the default: a quarter of physical memory, but no more than
/// half of what is available right now.
pub fn memory_limit(flag: Option<&str>) -> CliResult<u64> {
    match flag {
        Some(text) => {
            let limit = parse_bytes("--memory-limit", text)?;
            if limit < MIN_LIMIT {
                return Err(crate::error::CliError::usage(format!(
                    "--memory-limit {text} is below the minimum of {} (a single chunk's buffers and \
                     the worker threads need that much); give at least 4M",
                    human_bytes(MIN_LIMIT)
                )));
            }
            Ok(limit)
        }
        None => Ok(default_limit()),
    }
}

fn default_limit() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK_LIMIT;
    };
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    match (field("MemTotal:"), field("MemAvailable:")) {
        (Some(total), Some(available)) => (total / 4).min(available / 2).max(64 << 20),
        (Some(total), None) => (total / 4).max(64 << 20),
        _ => FALLBACK_LIMIT,
    }
}

/// Makes glibc serve large buffers with mmap and return them on free. By default glibc raises its
/// mmap threshold after the first large free (up to 32 MiB), after which chunk-sized buffers come
/// from heap arenas that fragment and keep the process's resident size at its high-water mark.
pub fn release_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Number of worker threads to use: as many cores as the budget allows when each worker needs
/// `per_worker` bytes out of `share` of the budget, at least one.
pub fn workers_for(share: u64, per_worker: u64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let fit = share.checked_div(per_worker.max(1)).unwrap_or(u64::MAX);
    (fit.min(cores as u64) as usize).max(1)
}

/// A thread pool of `threads` workers for the array layer's parallel decoding and encoding.
pub fn pool(threads: usize) -> CliResult<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("tessera-worker-{i}"))
        .build()
        .map_err(|e| crate::error::CliError::new("cannot start worker threads").with_source(e))
}

/// Human-readable byte count: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_formats() {
        assert!(memory_limit(None).unwrap() >= 64 << 20);
        let err = memory_limit(Some("1K")).unwrap_err();
        assert!(err.to_string().contains("minimum of 4.0 MiB"), "{err}");
        assert_eq!(memory_limit(Some("4M")).unwrap(), MIN_LIMIT);
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(workers_for(0, 10), 1);
    }
}

/// How a command that reads or writes chunks spends its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkPlan {
    /// Worker threads decoding or encoding chunks (each holds about two chunks).
    pub threads: usize,
    /// Fetched-but-not-yet-decoded values a batch read may hold.
    pub in_flight: usize,
    /// What is left for the command's own buffer (slabs, blocks).
    pub buffer: u64,
}

/// Splits `limit` for work on chunks of `chunk_bytes` (decoded): up to a quarter for the workers' chunk
/// buffers, up to a quarter for reads in flight, the rest for the command's buffer.
pub fn plan_work(limit: u64, chunk_bytes: u64) -> WorkPlan {
    let chunk = chunk_bytes.max(1);
    let threads = workers_for(limit / 4, 2 * chunk);
    let in_flight = ((limit / 4) / chunk).clamp(1, 64) as usize;
    let used = (threads as u64 * 2 + in_flight as u64) * chunk;
    WorkPlan {
        threads,
        in_flight,
        buffer: limit.saturating_sub(used).max(limit / 8).max(1),
    }
}
