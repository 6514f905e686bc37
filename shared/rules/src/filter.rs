//! The advanced filter of a rule: 1–6 conditions `"<field> <op> <value>"` joined by AND or OR.

use serde::{Serialize, Serializer};

pub use crate::fields::FilterField;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
}

/// One parsed condition. It is shown as it was written (`text`), so that clients comparing
/// what they sent with what they read back (Terraform) see no difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: FilterField,
    pub op: Op,
    pub value: String,
    pub text: String,
}

/// Why a condition is refused; the message shows what was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("{0:?} has no operator; expected \"<field> = <value>\" or \"<field> != <value>\"")]
    NoOperator(String),
    #[error("unknown field {0:?}; allowed: {allowed}", allowed = FilterField::NAMES.join(", "))]
    UnknownField(String),
    #[error("{0:?}: the operator must be = or !=")]
    BadOperator(String),
    #[error("{0:?} has no value")]
    NoValue(String),
    /// The value breaks its field's rule (the message says what is allowed).
    #[error("{0}")]
    BadValue(&'static str),
}

impl Condition {
    /// Parses `"<field> <op> <value>"`; the value is everything after the operator, trimmed.
    pub fn parse(written: &str) -> Result<Condition, ConditionError> {
        let text = written.trim();
        let field_end = text
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .ok_or_else(|| ConditionError::NoOperator(text.to_owned()))?;
        let field_name = &text[..field_end];
        let field = FilterField::ALL
            .into_iter()
            .find(|f| f.name() == field_name)
            .ok_or_else(|| ConditionError::UnknownField(field_name.to_owned()))?;
        let rest = text[field_end..].trim_start();
        let (op, value) = if let Some(v) = rest.strip_prefix("!=") {
            (Op::Ne, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (Op::Eq, v)
        } else {
            return Err(ConditionError::BadOperator(text.to_owned()));
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(ConditionError::NoValue(text.to_owned()));
        }
        field.check_value(value).map_err(ConditionError::BadValue)?;
        Ok(Condition {
            field,
            op,
            value: value.to_owned(),
            text: written.to_owned(),
        })
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Joiner {
    #[serde(rename = "AND")]
    And,
    #[serde(rename = "OR")]
    Or,
}

/// A rule's filter. While `is_support_filter` is false the filter is kept but not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub condition: Joiner,
    pub is_support_filter: bool,
    pub rule: Vec<Condition>,
}

impl Filter {
    /// The conditions that apply, or `None` when the filter is switched off.
    pub fn active(&self) -> Option<(Joiner, &[Condition])> {
        self.is_support_filter
            .then_some((self.condition, &self.rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_keeps_spaces_inside_its_value() {
        let c = Condition::parse("resource_name =  my web server ").unwrap();
        assert_eq!(
            (c.field, c.op, c.value.as_str()),
            (FilterField::ResourceName, Op::Eq, "my web server")
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            "\"resource_name =  my web server \"",
            "shown as written"
        );
    }

    #[test]
    fn not_equal_is_recognised_with_or_without_spaces() {
        assert_eq!(Condition::parse("code!=200").unwrap().op, Op::Ne);
        assert_eq!(
            Condition::parse("trace_rating != normal").unwrap().value,
            "normal"
        );
    }

    #[test]
    fn conditions_outside_the_contract_are_rejected() {
        for bad in [
            "",
            "code",
            "code = ",
            "user = alice",
            "code > 200",
            "Code = 200",
            "trace_rating = Normal",
            "trace_type = apicall",
            "api_version = v1 beta",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn value_lengths_are_checked_at_the_limit() {
        assert!(Condition::parse(&format!("resource_id = {}", "x".repeat(350))).is_ok());
        assert!(Condition::parse(&format!("resource_id = {}", "x".repeat(351))).is_err());
        assert!(Condition::parse(&format!("code = {}", "4".repeat(256))).is_ok());
        assert!(Condition::parse(&format!("code = {}", "4".repeat(257))).is_err());
        assert!(Condition::parse(&format!("api_version = {}", "v".repeat(64))).is_ok());
        assert!(Condition::parse(&format!("api_version = {}", "v".repeat(65))).is_err());
        assert!(Condition::parse(&format!("resource_name = {}", "n".repeat(256))).is_ok());
        assert!(Condition::parse(&format!("resource_name = {}", "n".repeat(257))).is_err());
    }
}
