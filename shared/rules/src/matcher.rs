//! The compiled matcher: one project's active rules turned into hash indexes of rule bitsets,
//! so that the cost of matching a trace does not grow with the number of rules, operations,
//! users or conditions. A project holds at most 100 rules, so one `u128` is a whole rule set.
//!
//! A rule fires when its operation, user and filter bits are all set:
//! - operations: `complete` rules, plus the rules listed under (service, resource, trace name);
//! - users: rules with no user list, plus the rules listing `user.name`;
//! - filter: per condition slot (0..6), the rules whose condition in that slot holds; AND rules
//!   need every slot they use to hold, OR rules any.
//!
//! When the operation and user leave only a few filtered rules, their conditions are compared
//! with the trace directly instead: a few string comparisons cost less than a hash lookup per
//! filter field, so a trace costs the same whether its project has one rule or a hundred.

use rustc_hash::FxHashMap;

use crate::filter::{FilterField, Joiner, Op};
use crate::model::{Notification, OperationType};
use crate::trace::TraceView;

/// Most rules one compiled set holds (the bits of a `u128`); a project holds at most 100.
pub const MAX_RULES: usize = 128;
const SLOTS: usize = crate::limits::MAX_CONDITIONS;
/// Longest service, resource type or trace name a rule can list; longer trace fields match
/// no operation.
const MAX_KEY_PART: usize = 64;
/// Up to this many filtered rules left, their conditions are compared one by one.
const COMPARED_RULES: u32 = 9;

/// A set of fired rules, by their index in [`CompiledRules::rules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fired(pub u128);

impl Fired {
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Rule indexes in increasing order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                i
            })
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a compiled rule set holds at most {MAX_RULES} rules; got {0}")]
pub struct TooManyRules(pub usize);

/// The filtered rules by what their condition in one slot is.
#[derive(Debug, Default, Clone, Copy)]
struct SlotRules {
    eq: u128,
    ne: u128,
    /// AND rules without a condition in this slot (so the slot cannot fail them).
    unused: u128,
}

/// The active rules of one project, compiled for matching.
#[derive(Debug, Default)]
pub struct CompiledRules {
    rules: Vec<Notification>,
    complete: u128,
    operations: FxHashMap<Box<[u8]>, u128>,
    any_user: u128,
    users: FxHashMap<Box<str>, u128>,
    unfiltered: u128,
    and_rules: u128,
    or_rules: u128,
    slots: [SlotRules; SLOTS],
    /// Per filter field: value → per slot, the rules whose condition there names this value.
    values: [FxHashMap<Box<str>, [u128; SLOTS]>; FilterField::COUNT],
    fields_used: Vec<usize>,
    /// Per rule, its active conditions (empty for rules without a filter).
    conditions: Vec<Vec<(FilterField, Op, Box<str>)>>,
}

impl CompiledRules {
    /// Compiles the active (enabled, with a topic) rules among `notifications`.
    pub fn compile<'a>(
        notifications: impl IntoIterator<Item = &'a Notification>,
    ) -> Result<Self, TooManyRules> {
        let rules: Vec<Notification> = notifications
            .into_iter()
            .filter(|n| n.is_active())
            .cloned()
            .collect();
        if rules.len() > MAX_RULES {
            return Err(TooManyRules(rules.len()));
        }
        let mut c = CompiledRules::default();
        let mut key = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let bit = 1u128 << i;
            if rule.operation_type == OperationType::Complete {
                c.complete |= bit;
            }
            for op in &rule.operations {
                for name in &op.trace_names {
                    if operation_key(&mut key, &op.service_type, &op.resource_type, name) {
                        *c.operations.entry(key.as_slice().into()).or_default() |= bit;
                    }
                }
            }
            if rule.notify_user_list.is_empty() {
                c.any_user |= bit;
            }
            for user in rule.notify_user_list.iter().flat_map(|g| &g.user_list) {
                *c.users.entry(user.as_str().into()).or_default() |= bit;
            }
            let Some((joiner, conditions)) = rule.filter.as_ref().and_then(|f| f.active()) else {
                c.unfiltered |= bit;
                c.conditions.push(Vec::new());
                continue;
            };
            c.conditions.push(
                conditions
                    .iter()
                    .map(|cond| (cond.field, cond.op, cond.value.as_str().into()))
                    .collect(),
            );
            match joiner {
                Joiner::And => c.and_rules |= bit,
                Joiner::Or => c.or_rules |= bit,
            }
            for slot in 0..SLOTS {
                let Some(cond) = conditions.get(slot) else {
                    if joiner == Joiner::And {
                        c.slots[slot].unused |= bit;
                    }
                    continue;
                };
                match cond.op {
                    Op::Eq => c.slots[slot].eq |= bit,
                    Op::Ne => c.slots[slot].ne |= bit,
                }
                let field = cond.field.index();
                c.values[field]
                    .entry(cond.value.as_str().into())
                    .or_default()[slot] |= bit;
                if !c.fields_used.contains(&field) {
                    c.fields_used.push(field);
                }
            }
        }
        c.rules = rules;
        Ok(c)
    }

    /// The compiled rules; [`Fired`] indexes into this.
    pub fn rules(&self) -> &[Notification] {
        &self.rules
    }

    /// The rules this trace fires.
    #[inline]
    pub fn matches(&self, trace: &TraceView<'_>) -> Fired {
        let mut fired = self.complete;
        if let (Some(s), Some(r), Some(n)) =
            (&trace.service_type, &trace.resource_type, &trace.trace_name)
        {
            let mut buf = [0u8; 3 * (MAX_KEY_PART + 1)];
            if let Some(key) = operation_key_in(&mut buf, s, r, n) {
                fired |= self.operations.get(key).copied().unwrap_or(0);
            }
        }
        if fired == 0 {
            return Fired(0);
        }
        let users = match &trace.user_name {
            Some(u) if !self.users.is_empty() => self.users.get(u.as_ref()).copied().unwrap_or(0),
            _ => 0,
        };
        fired &= self.any_user | users;
        let filtered = fired & !self.unfiltered;
        if filtered.count_ones() > COMPARED_RULES {
            fired &= self.unfiltered | self.filters_holding(trace);
        } else {
            for rule in Fired(filtered).iter() {
                if !self.filter_holds(rule, trace) {
                    fired &= !(1u128 << rule);
                }
            }
        }
        Fired(fired)
    }

    /// Whether rule `rule`'s filter holds for the trace, its conditions compared one by one.
    fn filter_holds(&self, rule: usize, trace: &TraceView<'_>) -> bool {
        let holds = |(field, op, value): &(FilterField, Op, Box<str>)| {
            trace.field(*field).is_some_and(|v| same(v, value)) == (*op == Op::Eq)
        };
        let conditions = &self.conditions[rule];
        if self.and_rules & (1u128 << rule) != 0 {
            conditions.iter().all(holds)
        } else {
            conditions.iter().any(holds)
        }
    }

    fn filters_holding(&self, trace: &TraceView<'_>) -> u128 {
        let mut named = [0u128; SLOTS];
        for &f in &self.fields_used {
            if let Some(hits) = trace
                .field(FilterField::ALL[f])
                .and_then(|v| self.values[f].get(v))
            {
                for (n, h) in named.iter_mut().zip(hits) {
                    *n |= h;
                }
            }
        }
        let mut all = self.and_rules;
        let mut any = 0;
        for (named, slot) in named.iter().zip(&self.slots) {
            let holds = (named & slot.eq) | (slot.ne & !named);
            all &= holds | slot.unused;
            any |= holds;
        }
        all | (any & self.or_rules)
    }
}

/// `a == b`, most unequal values told by their length and ends without a call to `memcmp`.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a.last() == b.last() && a == b
}

/// The unambiguous key of an operation: each part prefixed by its length.
fn operation_key(out: &mut Vec<u8>, service: &str, resource: &str, name: &str) -> bool {
    let mut buf = [0u8; 3 * (MAX_KEY_PART + 1)];
    match operation_key_in(&mut buf, service, resource, name) {
        Some(key) => {
            out.clear();
            out.extend_from_slice(key);
            true
        }
        None => false,
    }
}

#[inline]
fn operation_key_in<'b>(
    buf: &'b mut [u8; 3 * (MAX_KEY_PART + 1)],
    s: &str,
    r: &str,
    n: &str,
) -> Option<&'b [u8]> {
    if s.len() > MAX_KEY_PART || r.len() > MAX_KEY_PART || n.len() > MAX_KEY_PART {
        return None;
    }
    let mut at = 0;
    for part in [s, r, n] {
        buf[at] = part.len() as u8;
        buf[at + 1..at + 1 + part.len()].copy_from_slice(part.as_bytes());
        at += 1 + part.len();
    }
    Some(&buf[..at])
}
