//! Validation errors of notification bodies, each naming the field and the rule it broke.

/// The contract's `error_code` values that validation can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `CTS.0003`: missing body, wrong type, any validation rule.
    InvalidRequest,
    /// `CTS.0205`: a status other than `enabled` / `disabled`.
    InvalidStatus,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "CTS.0003",
            ErrorCode::InvalidStatus => "CTS.0205",
        }
    }
}

/// A body broke a rule of the contract. `Display` gives the `error_msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    pub code: ErrorCode,
    /// The JSON path of the offending value, e.g. `operations[2].trace_names[0]`.
    pub field: String,
    pub rule: String,
}

impl ValidationError {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        ValidationError {
            code: ErrorCode::InvalidRequest,
            field: field.into(),
            rule: rule.into(),
        }
    }
}
