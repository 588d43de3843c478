//! Reliability: writers killed with SIGKILL leave every chunk and metadata file whole; concurrent
//! writers (processes, on disk and on S3; threads with overlapping partial writes) lose nothing; readers
//! never see a torn chunk; malformed stores give typed errors (library) or one clean error line (CLI)
//! within bounded memory and time; fuzz findings stay fixed.
//!
//! Children are this test binary again, running only [`process::child_role`] with a role in the
//! environment (see [`process`]). `TESSERA_RELIABILITY_SEED` fixes the random kill moments and boxes;
//! every test prints the seed it used.

mod appenders;
mod bad_input;
mod cli;
mod concurrent;
mod crash;
mod fuzz_regressions;
mod generations;
mod process;
mod readers;
mod shard_mutations;
mod shared_chunks;

#[allow(dead_code, unused_imports)]
#[path = "../../crates/tessera-store/tests/backends/s3_server.rs"]
mod s3_server;

/// A small deterministic generator (splitmix64): reproducible kill moments and boxes without a
/// dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `TESSERA_RELIABILITY_SEED`, or from the clock; prints the seed.
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("TESSERA_RELIABILITY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        println!("{test}: TESSERA_RELIABILITY_SEED={seed}");
        Rng(seed)
    }

    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Shuffles `items` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}
