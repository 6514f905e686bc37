//! The contract's limits: how many of each list a rule may hold, how many rules a project, and
//! what each kind of value may look like. Validation ([`crate::body`]), the stores and the
//! matcher all read them here.

/// Most trace names one rule may list, over all its operations.
pub const MAX_TRACE_NAMES: usize = 1000;
/// Most distinct `service_type` values one rule may list.
pub const MAX_SERVICES: usize = 100;
pub const MAX_USER_GROUPS: usize = 10;
pub const MAX_USERS: usize = 50;
pub const MAX_CONDITIONS: usize = 6;
/// Most notifications one project may hold.
pub const MAX_NOTIFICATIONS_PER_PROJECT: usize = 100;

/// A project id as the API takes it in paths: 1-64 of `A-Z a-z 0-9 _ -` (CTS project ids are
/// 32 hex digits, AWS account ids 12 digits).
pub fn is_project_id(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn is_notification_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub fn is_service_type(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphabetic()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn is_resource_type(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/-".contains(&b))
}

/// `trace_name`: 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter.
pub fn is_trace_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphabetic()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub fn is_principal_name(s: &str) -> bool {
    (1..=64).contains(&s.chars().count()) && is_clean_text(s) && s.trim() == s
}

/// No control characters and no invisible format characters (zero-width space, BOM...).
pub fn is_clean_text(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}'))
}
