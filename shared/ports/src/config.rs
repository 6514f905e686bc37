//! What a binary reads from its environment at start, and why that can fail: one typed error,
//! whose message names the variable and what it must be (never a secret's value).

use std::path::PathBuf;

/// A configuration a binary cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {what}")]
    Missing {
        name: &'static str,
        what: &'static str,
    },
    #[error("{name} must be {what}, got {value:?}")]
    Invalid {
        name: &'static str,
        what: &'static str,
        value: String,
    },
    #[error("cannot read ACCESS_KEYS_FILE {path}")]
    KeysUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ACCESS_KEYS_FILE {path} must be a JSON array of {{\"access_key\", \"secret_key\", \"project_id\"}} (line {line}, column {column})")]
    KeysNotJson {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("ACCESS_KEYS_FILE {path}: {source}")]
    KeysInvalid {
        path: PathBuf,
        #[source]
        source: KeyListError,
    },
}

/// Why a list of access keys is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyListError {
    #[error("entry {0}: access_key must be 1-128 letters and digits")]
    BadAccessKey(usize),
    #[error("entry {0}: secret_key is empty")]
    NoSecret(usize),
    #[error("entry {0}: project_id is empty")]
    NoProject(usize),
    #[error("access key {0} is listed twice")]
    Repeated(String),
}

/// The environment variable `name`, which must be set (`what` says what it holds).
pub fn env_required(name: &'static str, what: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError::Missing { name, what })
}

/// A whole number from the environment variable `name`, or `default` when it is unset; an
/// error naming the variable when it is set to anything else.
pub fn env_number(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            what: "a whole number",
            value: v,
        }),
        Err(_) => Ok(default),
    }
}
