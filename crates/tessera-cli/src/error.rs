//! [`CliError`]: what a command reports when it fails, with the chain of causes behind it.

use std::error::Error as StdError;
use std::fmt;

/// Result alias of the commands.
pub type CliResult<T> = Result<T, CliError>;

/// A failed command: a message saying what was being done, the underlying error, and whether the
/// user's arguments were at fault (exit code 2) or the work itself failed (exit code 1).
#[derive(Debug)]
pub struct CliError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    usage: bool,
}

impl CliError {
    /// A failure of the work itself.
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            source: None,
            usage: false,
        }
    }

    /// An argument that parsed but does not make sense (bad JSON, wrong rank, ...).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            source: None,
            usage: true,
        }
    }

    /// Attaches the error that caused this one.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> CliError {
        self.source = Some(Box::new(source));
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        if self.usage { 2 } else { 1 }
    }

    /// True when some error in the chain is a broken pipe: the reader went away, which is not a
    /// failure of ours (`tessera info big | head -1`).
    pub fn is_broken_pipe(&self) -> bool {
        let mut next: Option<&(dyn StdError + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static));
        while let Some(err) = next {
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            next = err.source();
        }
        false
    }

    /// One line: the message, then each cause that adds something (sources whose text is already
    /// part of the line, as `#[error(transparent)]` wrappers produce, are skipped).
    pub fn one_line(&self) -> String {
        let mut line = self.message.clone();
        let mut next: Option<&(dyn StdError + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static));
        while let Some(err) = next {
            let text = err.to_string();
            if !text.is_empty() && !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            next = err.source();
        }
        line.replace('\n', " ")
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CliError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> CliError {
        CliError::new("I/O error").with_source(err)
    }
}

impl From<tessera_array::ArrayError> for CliError {
    fn from(err: tessera_array::ArrayError) -> CliError {
        CliError::new(err.to_string()).with_source(err)
    }
}

/// Adds what was being done to an error: `store.get(..).context("reading the manifest")`.
pub trait Context<T> {
    /// Wraps the error with `message`.
    fn context(self, message: impl Into<String>) -> CliResult<T>;
    /// Wraps the error with a lazily built message.
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> CliResult<T>;
}

impl<T, E: StdError + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, message: impl Into<String>) -> CliResult<T> {
        self.map_err(|e| CliError::new(message).with_source(e))
    }

    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> CliResult<T> {
        self.map_err(|e| CliError::new(message()).with_source(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_skips_repeated_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe closed");
        let err = CliError::new("writing the output")
            .with_source(CliError::new("pipe closed").with_source(io));
        assert_eq!(err.one_line(), "writing the output: pipe closed");
        assert!(err.is_broken_pipe());
        assert_eq!(CliError::usage("x").exit_code(), 2);
    }
}
