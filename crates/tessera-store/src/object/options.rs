//! Timeouts and retries of remote stores' requests, set in code or from the environment.

use std::time::Duration;

use object_store::{ClientOptions, RetryConfig};

use super::DEFAULT_UPDATE_ATTEMPTS;
use crate::error::{StoreError, StoreErrorKind, StoreResult};

/// Timeouts and retries of an [`ObjectStoreBackend`](super::ObjectStoreBackend)'s requests.
///
/// | setting | default | environment variable |
/// |---|---|---|
/// | [`timeout`](Self::timeout) of one request, body included | 30 s | `TESSERA_REMOTE_TIMEOUT` |
/// | [`connect_timeout`](Self::connect_timeout) | 5 s | `TESSERA_REMOTE_CONNECT_TIMEOUT` |
/// | [`max_retries`](Self::max_retries) of a failed request (5xx, connection errors, timeouts) | 10 | `TESSERA_REMOTE_RETRIES` |
/// | [`retry_timeout`](Self::retry_timeout): no retry starts after this | 180 s | `TESSERA_REMOTE_RETRY_TIMEOUT` |
/// | [`update_attempts`](Self::update_attempts) of a conflicting conditional update | 50 | `TESSERA_REMOTE_UPDATE_ATTEMPTS` |
///
/// Durations in the environment are seconds (`2.5` is allowed). Retries back off exponentially
/// from 100 ms up to 15 s. [`open_store`](crate::open_store) reads the environment
/// ([`from_env`](Self::from_env)); [`ObjectStoreBackend::from_url_with`](super::ObjectStoreBackend::from_url_with)
/// takes options built in code.
///
/// ```
/// use std::time::Duration;
/// use tessera_store::RemoteOptions;
/// let options = RemoteOptions::new()
///     .timeout(Duration::from_secs(120))
///     .max_retries(3);
/// let store = tessera_store::ObjectStoreBackend::from_url_with("http://127.0.0.1:9/data/", &options)
///     .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOptions {
    timeout: Duration,
    connect_timeout: Duration,
    max_retries: usize,
    retry_timeout: Duration,
    update_attempts: u32,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
            update_attempts: DEFAULT_UPDATE_ATTEMPTS,
        }
    }
}

impl RemoteOptions {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        RemoteOptions::default()
    }

    /// The defaults, overridden by the `TESSERA_REMOTE_*` environment variables that are set.
    ///
    /// # Errors
    /// [`InvalidConfig`](StoreErrorKind::InvalidConfig) naming a variable whose value is not a
    /// number of the right kind.
    pub fn from_env() -> StoreResult<Self> {
        RemoteOptions::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> StoreResult<Self> {
        let mut options = RemoteOptions::default();
        let invalid = |name: &str, value: &str, want: &str| {
            StoreError::new(
                StoreErrorKind::InvalidConfig,
                format!("{name}={value:?} is not {want}"),
            )
            .with_key(name)
        };
        let seconds = |name: &str| -> StoreResult<Option<Duration>> {
            let Some(value) = lookup(name) else {
                return Ok(None);
            };
            value
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .map(Some)
                .ok_or_else(|| invalid(name, &value, "a number of seconds"))
        };
        let count = |name: &str| -> StoreResult<Option<u64>> {
            let Some(value) = lookup(name) else {
                return Ok(None);
            };
            value
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| invalid(name, &value, "a whole number"))
        };
        if let Some(d) = seconds("TESSERA_REMOTE_TIMEOUT")? {
            options.timeout = d;
        }
        if let Some(d) = seconds("TESSERA_REMOTE_CONNECT_TIMEOUT")? {
            options.connect_timeout = d;
        }
        if let Some(n) = count("TESSERA_REMOTE_RETRIES")? {
            options.max_retries = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(d) = seconds("TESSERA_REMOTE_RETRY_TIMEOUT")? {
            options.retry_timeout = d;
        }
        if let Some(n) = count("TESSERA_REMOTE_UPDATE_ATTEMPTS")? {
            options.update_attempts = u32::try_from(n).unwrap_or(u32::MAX).max(1);
        }
        Ok(options)
    }

    /// How long one request may take, from sending it to the end of the response body.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting to the server may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a failed request (server error, connection error, timeout) is retried.
    pub fn max_retries(mut self, retries: usize) -> Self {
        self.max_retries = retries;
        self
    }

    /// No retry starts once this long has passed since the first attempt.
    pub fn retry_timeout(mut self, timeout: Duration) -> Self {
        self.retry_timeout = timeout;
        self
    }

    /// How many times [`update`](crate::WritableStore::update) reads and conditionally writes a
    /// value other writers keep changing before it fails with
    /// [`Timeout`](StoreErrorKind::Timeout) (at least 1).
    pub fn update_attempts(mut self, attempts: u32) -> Self {
        self.update_attempts = attempts.max(1);
        self
    }

    pub(super) fn client_options(&self, allow_http: bool) -> ClientOptions {
        ClientOptions::new()
            .with_timeout(self.timeout)
            .with_connect_timeout(self.connect_timeout)
            .with_allow_http(allow_http)
    }

    /// The request timeout as `object_store`'s configuration value.
    pub(super) fn client_timeout(&self) -> String {
        format!("{}ms", self.timeout.as_millis())
    }

    /// The connect timeout as `object_store`'s configuration value.
    pub(super) fn client_connect_timeout(&self) -> String {
        format!("{}ms", self.connect_timeout.as_millis())
    }

    pub(super) fn retry_config(&self) -> RetryConfig {
        RetryConfig {
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
            ..RetryConfig::default()
        }
    }

    pub(super) fn attempts(&self) -> u32 {
        self.update_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_defaults_and_bad_values_name_the_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            RemoteOptions::from_lookup(env(&[])).unwrap(),
            RemoteOptions::new()
        );
        let set = RemoteOptions::from_lookup(env(&[
            ("TESSERA_REMOTE_TIMEOUT", "2.5"),
            ("TESSERA_REMOTE_CONNECT_TIMEOUT", "1"),
            ("TESSERA_REMOTE_RETRIES", "0"),
            ("TESSERA_REMOTE_RETRY_TIMEOUT", "60"),
            ("TESSERA_REMOTE_UPDATE_ATTEMPTS", "7"),
        ]))
        .unwrap();
        let want = RemoteOptions::new()
            .timeout(Duration::from_millis(2500))
            .connect_timeout(Duration::from_secs(1))
            .max_retries(0)
            .retry_timeout(Duration::from_secs(60))
            .update_attempts(7);
        assert_eq!(set, want);
        for (name, value) in [
            ("TESSERA_REMOTE_TIMEOUT", "soon"),
            ("TESSERA_REMOTE_RETRIES", "-1"),
            ("TESSERA_REMOTE_RETRY_TIMEOUT", "-3"),
        ] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(vec![(name, value)].into_boxed_slice());
            let err = RemoteOptions::from_lookup(env(pairs)).unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::InvalidConfig);
            assert_eq!(err.key(), Some(name));
            assert!(err.to_string().contains(value), "{err}");
        }
    }
}
