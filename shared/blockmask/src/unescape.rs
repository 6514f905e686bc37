//! A JSON string's escapes decoded. Escaped JSON (an SQS body, a CTS `request`) has an escape
//! every eight bytes or so, so a decoder that stops at each escape pays a mispredicted branch
//! for most of them. Where the CPU can shuffle bytes (SSSE3, NEON), a 64-byte block is
//! classified, its escaping backslashes found with bit operations (simdjson's method), and the
//! block stored eight bytes at a time without them, or whole by one compress instruction
//! where the CPU has AVX-512 VBMI2: no branch per escape. The rare escapes
//! that are not one byte (`\uXXXX`) send the string to the decoder that stops at each escape,
//! which stores sixteen bytes whole per step and keeps those before the next backslash.

/// Why [`unescape_into`] refused a string's text: the escape at `offset` is invalid (or half a
/// surrogate pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscapeError {
    pub offset: usize,
}

mod shuffle;

const STEP: usize = 16;
const ONES: u128 = u128::from_le_bytes([0x01; STEP]);
const HIGHS: u128 = u128::from_le_bytes([0x80; STEP]);
const BACKSLASHES: u128 = u128::from_le_bytes([b'\\'; STEP]);

/// Appends `text`, the inside of a JSON string (between its quotes), to `out` with its escapes
/// decoded. On error `out` is left as it was.
pub fn unescape_into(text: &str, out: &mut String) -> Result<(), EscapeError> {
    let start = out.len();
    let src = text.as_bytes();
    // Decoding never lengthens (every escape is at least as long as its UTF-8); the slack takes
    // the whole stores past the end.
    out.reserve(src.len() + STEP);
    // SAFETY: the bytes written are `text`'s, without escaping backslashes (ASCII) and with
    // each escaped letter replaced by its ASCII byte, or the UTF-8 of a decoded character: the
    // text stays UTF-8. The length is set only past bytes written; on error it goes back.
    let buf = unsafe { out.as_mut_vec() };
    let dst = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    // SAFETY: `dst` has room for src.len() + STEP bytes; the runs go on where the blocks
    // stopped, or from the start when a block could not be decoded.
    let result = unsafe {
        let (i, o) = shuffle::unescape_blocks(src, dst).unwrap_or((0, 0));
        unescape_runs(src, dst, i, o)
    };
    let end = result.map_or(start, |o| start + o);
    // SAFETY: the bytes up to `end` are written (above) and UTF-8 (see above).
    unsafe { buf.set_len(end) };
    result.map(|_| ())
}

/// Decodes `src[i..]` into `dst[o..]` (`o <= i`; `i` where an escape may start), stopping at
/// each backslash; returns the length written.
///
/// # Safety
/// `dst` must have room for `src.len() + STEP` bytes.
unsafe fn unescape_runs(
    src: &[u8],
    dst: *mut u8,
    mut i: usize,
    mut o: usize,
) -> Result<usize, EscapeError> {
    loop {
        // Invariant: o <= i, so a store of STEP bytes at o ends within the room.
        if let Some(chunk) = src.get(i..i + STEP) {
            let word = u128::from_le_bytes(chunk.try_into().unwrap_or([0; STEP]));
            // SAFETY: o + STEP <= i + STEP <= src.len() + STEP.
            unsafe {
                dst.add(o)
                    .cast::<[u8; STEP]>()
                    .write_unaligned(word.to_le_bytes())
            };
            let found = first_backslash(word);
            if found == STEP {
                (i, o) = (i + STEP, o + STEP);
                continue;
            }
            (i, o) = (i + found, o + found);
        } else {
            match src.get(i) {
                None => return Ok(o),
                Some(&b) if b != b'\\' => {
                    // SAFETY: o <= i < src.len().
                    unsafe { dst.add(o).write(b) };
                    (i, o) = (i + 1, o + 1);
                    continue;
                }
                Some(_) => {}
            }
        }
        // A backslash at i: most escapes stand for one byte, looked up.
        let simple = SIMPLE[usize::from(src.get(i + 1).copied().unwrap_or(0))];
        if simple != 0 {
            // SAFETY: o <= i < src.len().
            unsafe { dst.add(o).write(simple) };
            (i, o) = (i + 2, o + 1);
            continue;
        }
        let mut utf8 = [0u8; 4];
        let (decoded, len) = decode_unicode(src, i, &mut utf8)?;
        // SAFETY: decoded.len() <= len, so o + decoded.len() <= i + len <= src.len().
        unsafe {
            dst.add(o)
                .copy_from_nonoverlapping(decoded.as_ptr(), decoded.len())
        };
        (i, o) = (i + len, o + decoded.len());
    }
}

/// The index of the first backslash among the word's bytes, or `STEP` if none.
#[inline(always)]
fn first_backslash(word: u128) -> usize {
    let x = word ^ BACKSLASHES;
    // High bit set in each zero byte of x; a false positive only ever sits above a true one.
    let zero = x.wrapping_sub(ONES) & !x & HIGHS;
    (zero.trailing_zeros() / 8) as usize
}

/// The byte each one-letter escape stands for, by its letter; 0 for the others (`\u`, invalid).
const SIMPLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let pairs = [
        (b'"', b'"'),
        (b'\\', b'\\'),
        (b'/', b'/'),
        (b'n', b'\n'),
        (b't', b'\t'),
        (b'r', b'\r'),
        (b'b', 0x08),
        (b'f', 0x0c),
    ];
    let mut k = 0;
    while k < pairs.len() {
        table[pairs[k].0 as usize] = pairs[k].1;
        k += 1;
    }
    table
};

/// `\uXXXX`, or a surrogate pair `\uXXXX\uXXXX`.
#[cold]
fn decode_unicode<'u>(
    src: &[u8],
    at: usize,
    utf8: &'u mut [u8; 4],
) -> Result<(&'u [u8], usize), EscapeError> {
    let invalid = EscapeError { offset: at };
    let hex = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(src.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    if src.get(at + 1) != Some(&b'u') {
        return Err(invalid);
    }
    let first = hex(at + 2).ok_or(invalid)?;
    let (code, len) = match first {
        0xD800..=0xDBFF => {
            let low = (src.get(at + 6..at + 8) == Some(b"\\u"))
                .then(|| hex(at + 8))
                .flatten()
                .filter(|low| (0xDC00..=0xDFFF).contains(low))
                .ok_or(invalid)?;
            (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
        }
        code => (code, 6),
    };
    let c = char::from_u32(code).ok_or(invalid)?;
    Ok((c.encode_utf8(utf8).as_bytes(), len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unescaped(text: &str) -> Result<String, EscapeError> {
        let mut out = String::from("kept:");
        unescape_into(text, &mut out).map(|()| out["kept:".len()..].to_owned())
    }

    #[test]
    fn every_escape_is_decoded() {
        let text = r#"a\"b\\c\/d\ne\tf\rg\bh\fi\u00e9j\ud83d\ude00k"#;
        assert_eq!(
            unescaped(text).unwrap(),
            "a\"b\\c/d\ne\tf\rg\u{8}h\u{c}iéj😀k"
        );
    }

    #[test]
    fn invalid_escapes_are_refused_where_they_are_and_leave_out_as_it_was() {
        for (text, offset) in [
            (r"0123456789abcdefgh\x", 18),
            (r"ab\ud83d", 2),
            (r"ab\ud83dxx", 2),
            (r"ab\ude00\ud83d", 2),
            (r"ab\ud83d\u0041", 2),
            (r"abc\u12", 3),
            (r"abc\", 3),
        ] {
            let mut out = String::from("kept");
            assert_eq!(
                unescape_into(text, &mut out),
                Err(EscapeError { offset }),
                "{text}"
            );
            assert_eq!(out, "kept");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the text and however it is escaped, unescaping gives it back.
        #[test]
        fn unescaping_gives_back_the_text(
            text in "[a-z\"\\\\/\n\té😀]{0,300}",
            unicode_every in 0usize..6,
        ) {
            let mut literal = String::new();
            for (n, c) in text.chars().enumerate() {
                if unicode_every > 0 && n % unicode_every == 0 {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        literal.push_str(&format!("\\u{unit:04x}"));
                    }
                } else {
                    literal.push_str(&escaped(c));
                }
            }
            prop_assert_eq!(unescaped(&literal).unwrap(), text);
        }
    }

    /// A character as JSON writers write it inside a string.
    fn escaped(c: char) -> String {
        match c {
            '"' => "\\\"".into(),
            '\\' => "\\\\".into(),
            '\n' => "\\n".into(),
            '\t' => "\\t".into(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        }
    }
}
