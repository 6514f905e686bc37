//! Backtests: the rules (a project's stored rules, or rule bodies as create takes them) over an
//! archive of trace files, reporting per rule what it would have sent: matches, messages
//! (digests included), per day, the top trace names and users, sample messages. Read-only:
//! nothing is published, no claim is made.
//!
//! One engine ([`engine::FileTally`]) reads every file as a stream, three ways: a folder on all
//! cores ([`folder`]), an S3 prefix ([`s3`]), and at scale a Step Functions Distributed Map
//! whose children each tally a batch of objects ([`distributed`]).

#[cfg(feature = "adapters")]
pub mod distributed;
pub mod engine;
pub mod folder;
pub mod progress;
pub mod rules_source;
#[cfg(feature = "adapters")]
pub mod s3;
