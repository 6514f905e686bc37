//! The trace fields that routing, matching and messages read, declared once in the table at the
//! bottom. From it follow the scanner's key lookup ([`Field`]), the borrowed [`TraceView`], the
//! filter fields a condition may compare ([`FilterField`], with each value's rule) and the
//! matcher's one slot per filter field ([`FilterField::COUNT`]). Adding a field is one line of
//! the table plus its tests.

use std::borrow::Cow;

use crate::trace::TraceError;

/// Keys are told apart by whole 8-byte words, so none may be longer than two words.
const LONGEST_KEY: usize = 16;
/// At most this many fields share a key length (checked when compiling).
const SAME_LENGTH: usize = 4;

/// Two words that, with the key's length, identify a key of up to 16 bytes: its first and
/// last eight bytes (overlapping below 16), below 8 bytes its first and last four in one word.
#[inline(always)]
pub(crate) fn key_words(key: &[u8]) -> (u64, u64) {
    let n = key.len();
    if n >= 8 {
        (word(&key[..8]), word(&key[n - 8..]))
    } else if n >= 4 {
        let w = u64::from(half(&key[..4])) | u64::from(half(&key[n - 4..])) << 32;
        (w, w)
    } else {
        let w = key.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        (w, w)
    }
}

#[inline(always)]
fn word(eight: &[u8]) -> u64 {
    eight.try_into().map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn half(four: &[u8]) -> u32 {
    four.try_into().map_or(0, u32::from_le_bytes)
}

/// [`key_words`] when compiling.
const fn const_key_words(key: &[u8]) -> (u64, u64) {
    const fn little_endian(key: &[u8], start: usize, len: usize) -> u64 {
        let mut w = 0u64;
        let mut k = 0;
        while k < len {
            w |= (key[start + k] as u64) << (8 * k);
            k += 1;
        }
        w
    }
    let n = key.len();
    if n >= 8 {
        (little_endian(key, 0, 8), little_endian(key, n - 8, 8))
    } else if n >= 4 {
        let w = little_endian(key, 0, 4) | little_endian(key, n - 4, 4) << 32;
        (w, w)
    } else {
        let w = little_endian(key, 0, n);
        (w, w)
    }
}

/// A candidate of [`Field::of`]: a field's key words, or none in an unused slot.
type Candidate = (u64, u64, Option<Field>);

/// For each key length, the fields whose key has it.
const fn by_length<const N: usize>(
    fields: [Field; N],
    keys: [&[u8]; N],
) -> [[Candidate; SAME_LENGTH]; LONGEST_KEY + 1] {
    let mut table = [[(0, 0, None); SAME_LENGTH]; LONGEST_KEY + 1];
    let mut i = 0;
    while i < N {
        let len = keys[i].len();
        assert!(
            len > 0 && len <= LONGEST_KEY,
            "a trace field's key is 1-16 bytes"
        );
        let mut slot = 0;
        while table[len][slot].2.is_some() {
            slot += 1;
            assert!(
                slot < SAME_LENGTH,
                "too many trace fields share a key length"
            );
        }
        let (first, last) = const_key_words(keys[i]);
        table[len][slot] = (first, last, Some(fields[i]));
        i += 1;
    }
    table
}

/// Expands the table. Identity fields say who and what a trace is (`required` ones must be
/// present); nested fields are read from an object member (`user` . `name`); other fields are
/// only read; filter fields
/// are what conditions compare, each with its value rule and the message naming it.
macro_rules! trace_fields {
    (
        identity { $( $iv:ident $im:ident $ikey:literal $presence:ident, )* }
        nested { $( $(#[$ndoc:meta])* $nv:ident $nm:ident $nkey:literal . $ninner:literal, )* }
        other { $( $(#[$odoc:meta])* $ov:ident $om:ident $okey:literal, )* }
        filter { $( $fv:ident $fm:ident $fkey:literal, |$v:ident, $len:ident| $rule:expr, $msg:literal; )* }
    ) => {
        /// The fields of a trace that routing, matching and the message need, borrowed from its
        /// JSON where no escapes had to be decoded. Non-string scalars (a numeric `code`, say)
        /// keep their JSON text; null, objects and arrays count as missing.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct TraceView<'a> {
            $( pub $im: Option<Cow<'a, str>>, )*
            $( $(#[$ndoc])* pub $nm: Option<Cow<'a, str>>, )*
            $( $(#[$odoc])* pub $om: Option<Cow<'a, str>>, )*
            $( pub $fm: Option<Cow<'a, str>>, )*
        }

        /// A field the scanner keeps, by its key at the trace's top level.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Field { $($iv,)* $($nv,)* $($ov,)* $($fv,)* }

        impl Field {
            const ALL: [Field; FIELD_COUNT] =
                [$(Field::$iv,)* $(Field::$nv,)* $(Field::$ov,)* $(Field::$fv,)*];
            const KEYS: [&'static [u8]; FIELD_COUNT] =
                [$($ikey.as_bytes(),)* $($nkey.as_bytes(),)* $($okey.as_bytes(),)* $($fkey.as_bytes(),)*];

            /// The member of an object value that holds a nested field's text.
            pub(crate) fn nested(self) -> Option<&'static [u8]> {
                match self {
                    $( Field::$nv => Some($ninner.as_bytes()), )*
                    _ => None,
                }
            }

            /// The name of a field that identifies a trace and so must be a string when present.
            pub(crate) fn identity_name(self) -> Option<&'static str> {
                match self {
                    $( Field::$iv => Some($ikey), )*
                    _ => None,
                }
            }
        }

        /// How many fields a view holds.
        pub(crate) const FIELD_COUNT: usize = [$($ikey,)* $($nkey,)* $($okey,)* $($fkey,)*].len();

        impl<'a> TraceView<'a> {
            /// The value a filter condition on `field` compares against.
            pub fn field(&self, field: FilterField) -> Option<&str> {
                match field {
                    $( FilterField::$fv => self.$fm.as_deref(), )*
                }
            }

            pub(crate) fn slot_mut(&mut self, field: Field) -> &mut Option<Cow<'a, str>> {
                match field {
                    $( Field::$iv => &mut self.$im, )*
                    $( Field::$nv => &mut self.$nm, )*
                    $( Field::$ov => &mut self.$om, )*
                    $( Field::$fv => &mut self.$fm, )*
                }
            }

            /// Every field, in [`Field`]'s order.
            pub(crate) fn slots(&self) -> [&Option<Cow<'a, str>>; FIELD_COUNT] {
                [$(&self.$im,)* $(&self.$nm,)* $(&self.$om,)* $(&self.$fm,)*]
            }

            /// The view of [`Self::slots`].
            pub(crate) fn from_slots(slots: [Option<Cow<'a, str>>; FIELD_COUNT]) -> Self {
                let [$($im,)* $($nm,)* $($om,)* $($fm,)*] = slots;
                TraceView { $($im,)* $($nm,)* $($om,)* $($fm,)* }
            }

            /// Identity fields must be non-empty strings, and the required ones present.
            pub(crate) fn check_identity(&self) -> Result<(), TraceError> {
                $( trace_fields!(@check $presence, $ikey, self.$im); )*
                Ok(())
            }
        }

        /// A trace field that a filter condition may compare.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FilterField { $($fv,)* }

        impl FilterField {
            pub const ALL: [FilterField; FilterField::COUNT] = [$(FilterField::$fv,)*];
            /// How many filter fields there are: the matcher keeps one slot per field.
            pub const COUNT: usize = [$($fkey,)*].len();
            /// Their names, as conditions write them.
            pub const NAMES: [&'static str; FilterField::COUNT] = [$($fkey,)*];

            pub fn name(self) -> &'static str {
                Self::NAMES[self.index()]
            }

            /// The field's position in [`Self::ALL`].
            pub fn index(self) -> usize {
                self as usize
            }

            /// Checks a condition value against the field's rule; the error says what is allowed.
            pub(crate) fn check_value(self, value: &str) -> Result<(), &'static str> {
                let ok = match self {
                    $( FilterField::$fv => {
                        let ($v, $len) = (value, value.chars().count());
                        $rule
                    } )*
                };
                if ok && !value.chars().any(char::is_control) {
                    return Ok(());
                }
                Err(match self { $( FilterField::$fv => $msg, )* })
            }
        }
    };
    (@check required, $key:literal, $value:expr) => {
        match &$value {
            None => return Err(TraceError::Missing($key)),
            Some(v) if v.is_empty() => return Err(TraceError::NotAString($key)),
            Some(_) => {}
        }
    };
    (@check optional, $key:literal, $value:expr) => {
        if $value.as_deref() == Some("") {
            return Err(TraceError::NotAString($key));
        }
    };
}

trace_fields! {
    identity {
        TraceId trace_id "trace_id" required,
        TraceName trace_name "trace_name" required,
        ServiceType service_type "service_type" required,
        ResourceType resource_type "resource_type" required,
        ProjectId project_id "project_id" optional,
    }
    nested {
        /// `user.name`.
        User user_name "user" . "name",
    }
    other {
        /// When the call was made, in epoch milliseconds (its JSON text): backtests count by it.
        Time time "time",
    }
    filter {
        ApiVersion api_version "api_version",
            |v, len| len <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)),
            "api_version must be 1-64 characters of A-Z a-z 0-9 _ . -";
        Code code "code", |_v, len| len <= 256, "code must be 1-256 characters";
        TraceRating trace_rating "trace_rating",
            |v, _len| ["normal", "warning", "incident"].contains(&v),
            "trace_rating must be one of normal, warning, incident";
        TraceType trace_type "trace_type",
            |v, _len| ["ApiCall", "ConsoleAction", "SystemAction"].contains(&v),
            "trace_type must be one of ApiCall, ConsoleAction, SystemAction";
        ResourceId resource_id "resource_id", |_v, len| len <= 350, "resource_id must be 1-350 characters";
        ResourceName resource_name "resource_name", |_v, len| len <= 256, "resource_name must be 1-256 characters";
    }
}

impl Field {
    /// The field whose key `key` is, compared as two words per candidate of its length: most
    /// keys of a trace are not fields and have no candidate or differ in the first word.
    #[inline(always)]
    pub(crate) fn of(key: &[u8]) -> Option<Field> {
        const BY_LENGTH: [[Candidate; SAME_LENGTH]; LONGEST_KEY + 1] =
            by_length(Field::ALL, Field::KEYS);
        let candidates = BY_LENGTH.get(key.len())?;
        candidates[0].2?;
        let (first, last) = key_words(key);
        // An unused slot's words are those of a key of NUL bytes, which names no field either.
        candidates
            .iter()
            .find(|c| c.0 == first && c.1 == last)
            .and_then(|c| c.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_finds_its_own_field_and_no_other() {
        for (field, key) in Field::ALL.into_iter().zip(Field::KEYS) {
            assert_eq!(
                Field::of(key),
                Some(field),
                "{}",
                String::from_utf8_lossy(key)
            );
            let mut other = key.to_vec();
            *other.last_mut().unwrap() ^= 1;
            assert_eq!(Field::of(&other), None);
            other.insert(0, b'x');
            assert_eq!(Field::of(&other), None);
        }
        for not_a_field in [
            "",
            "times",
            "trace_idx",
            "request",
            "source_ip",
            "resource_typ",
        ] {
            assert_eq!(Field::of(not_a_field.as_bytes()), None, "{not_a_field}");
        }
    }

    #[test]
    fn words_of_a_key_match_their_const_twin() {
        for key in [
            "a",
            "abc",
            "code",
            "seven77",
            "eight888",
            "trace_rating",
            "sixteen_bytes_16",
        ] {
            assert_eq!(
                key_words(key.as_bytes()),
                const_key_words(key.as_bytes()),
                "{key}"
            );
        }
    }

    #[test]
    fn filter_fields_index_their_own_names() {
        for (i, field) in FilterField::ALL.into_iter().enumerate() {
            assert_eq!(field.index(), i);
            assert_eq!(FilterField::NAMES[i], field.name());
            let mut view = TraceView::default();
            *view.slot_mut(Field::of(field.name().as_bytes()).unwrap()) = Some("v".into());
            assert_eq!(view.field(field), Some("v"));
        }
    }

    #[test]
    fn slots_round_trip_a_view() {
        let mut view = TraceView::default();
        for (n, field) in Field::ALL.into_iter().enumerate() {
            *view.slot_mut(field) = Some(n.to_string().into());
        }
        let copy = TraceView::from_slots(view.slots().map(Clone::clone));
        assert_eq!(copy, view);
        assert_eq!(view.user_name.as_deref(), Some("5"));
    }
}
