//! The first stage of the trace scanner: one pass of vector compares turns each 64-byte block
//! of a document into bitmasks (bit k for byte k), so that the scanner finds string ends and
//! checks string contents with bit operations instead of looking at bytes one by one. The
//! same blocks serve two other readers: the trace file splitter, which finds a record's end
//! from its brackets ([`classify_structure`]), and the decoder of escaped text
//! ([`unescape_into`]).
//!
//! x86_64 always has SSE2 and aarch64 always has NEON, so those paths are chosen at compile
//! time; whole documents on x86_64 use AVX-512BW or AVX2 when the CPU has them (checked at run
//! time, cached by std). The `unsafe` is the vector loads of 64-byte arrays and the calls into
//! AVX code after that check.

mod structure;
mod unescape;

pub use structure::{classify_structure, classify_structure_portable, Structure};
pub use unescape::{unescape_into, EscapeError};

/// The classes of the bytes of one block that the scanner needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Masks {
    /// `"`
    pub quotes: u64,
    /// `\`
    pub backslashes: u64,
    /// Bytes below 0x20, which JSON allows only as whitespace outside strings.
    pub controls: u64,
    /// Whether any byte is 0x80 or above (not a per-byte mask: only UTF-8 checking needs it).
    pub has_non_ascii: bool,
}

/// Why [`classify_text`] refused a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Not UTF-8; the bytes before `valid_up_to` are.
    NotUtf8 { valid_up_to: usize },
    /// `out` holds fewer than [`blocks_in`] masks.
    BufferTooSmall,
}

/// How many 64-byte blocks `len` bytes make, the last one partial.
pub fn blocks_in(len: usize) -> usize {
    len.div_ceil(64)
}

/// Classifies every block of `bytes` into `out` (the last one padded with spaces) and returns
/// `bytes` as text. UTF-8 is checked only when a block holds a byte above ASCII, so for the
/// usual all-ASCII document the check is free.
pub fn classify_text<'a>(bytes: &'a [u8], out: &mut [Masks]) -> Result<&'a str, TextError> {
    let out = out
        .get_mut(..blocks_in(bytes.len()))
        .ok_or(TextError::BufferTooSmall)?;
    let mut non_ascii = imp::classify_blocks(bytes, out);
    let rest = bytes.chunks_exact(64).remainder();
    if let Some(last) = out.last_mut().filter(|_| !rest.is_empty()) {
        let mut padded = [b' '; 64];
        padded[..rest.len()].copy_from_slice(rest);
        *last = classify(&padded);
        non_ascii |= last.has_non_ascii;
    }
    if non_ascii {
        return std::str::from_utf8(bytes).map_err(|e| TextError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        });
    }
    // SAFETY: every byte was classified above and none is 0x80 or above: ASCII is UTF-8.
    Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Classifies the whole blocks of `bytes` into `out` with `classify`; tells whether any byte
/// was above ASCII. Inlined into each caller so that it is compiled with the caller's target
/// features.
#[inline(always)]
fn classify_whole_blocks(
    bytes: &[u8],
    out: &mut [Masks],
    classify: impl Fn(&[u8; 64]) -> Masks,
) -> bool {
    let mut non_ascii = false;
    for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(64)) {
        // Chunks are exactly 64 bytes; were one not, it would count as non-ASCII, which only
        // sends the document to the full UTF-8 check.
        *slot = classify(chunk.try_into().unwrap_or(&[0xff; 64]));
        non_ascii |= slot.has_non_ascii;
    }
    non_ascii
}

const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// The positions escaped by a backslash (the byte after each escaping backslash), given a
/// block's backslashes; `carry` says whether the block starts escaped, and is set to whether
/// the next one does. simdjson's method.
#[inline]
pub fn escaped_positions(backslashes: u64, carry: &mut u64) -> u64 {
    let backslashes = backslashes & !*carry;
    let follows_escape = (backslashes << 1) | *carry;
    let odd_sequence_starts = backslashes & !EVEN_BITS & !follows_escape;
    let (sequences_starting_on_even_bits, overflow) =
        odd_sequence_starts.overflowing_add(backslashes);
    *carry = overflow as u64;
    let invert = sequences_starting_on_even_bits << 1;
    (EVEN_BITS ^ invert) & follows_escape
}

/// Bit k set when an odd number of bits at or below k are set in `x`: given a block's string
/// quotes, the bytes from an opening quote (included) to its closing one (excluded).
#[inline]
pub fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// Classifies the 64 bytes of `block`.
#[inline]
pub fn classify(block: &[u8; 64]) -> Masks {
    imp::classify(block)
}

/// The portable definition, which the vector paths must equal.
pub fn classify_portable(block: &[u8; 64]) -> Masks {
    let mut masks = Masks::default();
    for (k, &byte) in block.iter().enumerate() {
        let bit = 1u64 << k;
        match byte {
            b'"' => masks.quotes |= bit,
            b'\\' => masks.backslashes |= bit,
            0..=0x1f => masks.controls |= bit,
            0x80.. => masks.has_non_ascii = true,
            _ => {}
        }
    }
    masks
}

/// A vector path under test: its name, whether this CPU has its instructions, and the path
/// itself (called only when it has them).
#[cfg(all(test, target_arch = "x86_64"))]
type PathUnderTest<'a, T> = (&'static str, bool, &'a dyn Fn(&[u8], &mut [T]));

/// Checks every path this CPU can run against the portable definition, block by block, over
/// pseudo-random documents of three blocks whose bytes are mostly one of `favoured` (`out_of`
/// draws in which each has one chance), any byte otherwise.
#[cfg(all(test, target_arch = "x86_64"))]
fn assert_paths_equal_definition<T: Clone + Default + PartialEq + std::fmt::Debug>(
    favoured: &[u8],
    out_of: u64,
    definition: impl Fn(&[u8; 64]) -> T,
    paths: &[PathUnderTest<'_, T>],
) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut byte = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *favoured
            .get((seed % out_of) as usize)
            .unwrap_or(&(seed as u8))
    };
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..64 * 3).map(|_| byte()).collect();
        let expected: Vec<T> = bytes
            .chunks_exact(64)
            .map(|c| definition(c.try_into().unwrap()))
            .collect();
        for (name, available, path) in paths {
            if *available {
                let mut out = vec![T::default(); 3];
                path(&bytes, &mut out);
                assert_eq!(out, expected, "{name}");
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    use super::{classify_whole_blocks, Masks};

    pub(crate) fn classify_blocks(bytes: &[u8], out: &mut [Masks]) -> bool {
        if std::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU has AVX-512BW, checked just above.
            unsafe { classify_blocks_avx512(bytes, out) }
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { classify_blocks_avx2(bytes, out) }
        } else {
            classify_whole_blocks(bytes, out, classify)
        }
    }

    #[target_feature(enable = "avx512bw")]
    fn classify_blocks_avx512(bytes: &[u8], out: &mut [Masks]) -> bool {
        classify_whole_blocks(bytes, out, |block| classify_avx512(block))
    }

    /// One 64-byte register per block; the compares give the bitmasks directly.
    #[inline]
    #[target_feature(enable = "avx512bw")]
    pub(crate) fn classify_avx512(block: &[u8; 64]) -> Masks {
        // SAFETY: `block` is 64 readable bytes; `loadu` has no alignment requirement.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        Masks {
            quotes: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
            backslashes: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
            controls: _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1f)),
            has_non_ascii: _mm512_movepi8_mask(v) != 0,
        }
    }

    /// Every path this CPU can run must give what the definition gives: documents pick the
    /// widest path, so the narrower ones are checked here directly.
    #[cfg(test)]
    #[test]
    fn every_path_equals_the_definition() {
        // Mostly the bytes that matter, and their neighbours.
        super::assert_paths_equal_definition(
            b"\"\\\x00\x1f\x20\x7f\x80\xffa{",
            16,
            super::classify_portable,
            &[
                ("SSE2", true, &|b, o| {
                    classify_whole_blocks(b, o, classify);
                }),
                ("AVX2", std::is_x86_feature_detected!("avx2"), &|b, o| {
                    // SAFETY: called only when the CPU has AVX2.
                    unsafe { classify_blocks_avx2(b, o) };
                }),
                (
                    "AVX-512",
                    std::is_x86_feature_detected!("avx512bw"),
                    &|b, o| {
                        // SAFETY: called only when the CPU has AVX-512BW.
                        unsafe { classify_blocks_avx512(b, o) };
                    },
                ),
            ],
        );
    }

    #[target_feature(enable = "avx2")]
    fn classify_blocks_avx2(bytes: &[u8], out: &mut [Masks]) -> bool {
        classify_whole_blocks(bytes, out, |block| classify_avx2(block))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn classify_avx2(block: &[u8; 64]) -> Masks {
        let (quote, backslash) = (_mm256_set1_epi8(b'"' as i8), _mm256_set1_epi8(b'\\' as i8));
        let below_space = _mm256_set1_epi8(0x1f);
        // SAFETY: both halves are 32 readable bytes; `loadu` has no alignment requirement.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast()),
            )
        };
        let bits = |lo: __m256i, hi: __m256i| {
            (_mm256_movemask_epi8(lo) as u32 as u64)
                | (_mm256_movemask_epi8(hi) as u32 as u64) << 32
        };
        // Unsigned `v <= 0x1f` is `min(v, 0x1f) == v`.
        let control_lo = _mm256_cmpeq_epi8(_mm256_min_epu8(lo, below_space), lo);
        let control_hi = _mm256_cmpeq_epi8(_mm256_min_epu8(hi, below_space), hi);
        let any_control = _mm256_testz_si256(
            _mm256_or_si256(control_lo, control_hi),
            _mm256_or_si256(control_lo, control_hi),
        ) == 0;
        Masks {
            quotes: bits(_mm256_cmpeq_epi8(lo, quote), _mm256_cmpeq_epi8(hi, quote)),
            backslashes: bits(
                _mm256_cmpeq_epi8(lo, backslash),
                _mm256_cmpeq_epi8(hi, backslash),
            ),
            // Compact JSON has none: the mask is gathered only for blocks that have some.
            controls: if any_control {
                bits(control_lo, control_hi)
            } else {
                0
            },
            has_non_ascii: _mm256_movemask_epi8(_mm256_or_si256(lo, hi)) != 0,
        }
    }
    #[inline]
    pub(crate) fn classify(block: &[u8; 64]) -> Masks {
        // SAFETY: SSE2 is part of every x86_64 CPU.
        unsafe { classify_sse2(block) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn classify_sse2(block: &[u8; 64]) -> Masks {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let below_space = _mm_set1_epi8(0x1f);
        let mut masks = Masks::default();
        let mut high = _mm_setzero_si128();
        for (k, chunk) in block.chunks_exact(16).enumerate() {
            // SAFETY: `chunk` is 16 readable bytes and `loadu` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
            high = _mm_or_si128(high, v);
            let bits = |m: __m128i| (_mm_movemask_epi8(m) as u16 as u64) << (16 * k);
            masks.quotes |= bits(_mm_cmpeq_epi8(v, quote));
            masks.backslashes |= bits(_mm_cmpeq_epi8(v, backslash));
            // Unsigned `v <= 0x1f` is `min(v, 0x1f) == v`.
            masks.controls |= bits(_mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));
        }
        masks.has_non_ascii = _mm_movemask_epi8(high) != 0;
        masks
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use core::arch::aarch64::*;

    use super::{classify_whole_blocks, Masks};

    pub(crate) fn classify_blocks(bytes: &[u8], out: &mut [Masks]) -> bool {
        classify_whole_blocks(bytes, out, classify)
    }

    #[inline]
    pub(crate) fn classify(block: &[u8; 64]) -> Masks {
        // SAFETY: NEON is part of every aarch64 CPU.
        unsafe { classify_neon(block) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    fn classify_neon(block: &[u8; 64]) -> Masks {
        // SAFETY: `block` is 64 readable bytes, exactly what the four-register load reads.
        let v = unsafe { vld1q_u8_x4(block.as_ptr()) };
        let quote = vdupq_n_u8(b'"');
        let backslash = vdupq_n_u8(b'\\');
        let below_space = vdupq_n_u8(0x20);
        Masks {
            quotes: to_bits([
                vceqq_u8(v.0, quote),
                vceqq_u8(v.1, quote),
                vceqq_u8(v.2, quote),
                vceqq_u8(v.3, quote),
            ]),
            backslashes: to_bits([
                vceqq_u8(v.0, backslash),
                vceqq_u8(v.1, backslash),
                vceqq_u8(v.2, backslash),
                vceqq_u8(v.3, backslash),
            ]),
            controls: to_bits([
                vcltq_u8(v.0, below_space),
                vcltq_u8(v.1, below_space),
                vcltq_u8(v.2, below_space),
                vcltq_u8(v.3, below_space),
            ]),
            has_non_ascii: vmaxvq_u8(vorrq_u8(vorrq_u8(v.0, v.1), vorrq_u8(v.2, v.3))) >= 0x80,
        }
    }

    /// Packs four compare results (0x00 or 0xff per byte) into 64 bits, byte k to bit k: each
    /// byte keeps the bit of its position in an 8-byte group, then three pairwise additions
    /// merge 8 bytes into one.
    #[inline]
    #[target_feature(enable = "neon")]
    pub(crate) fn to_bits(m: [uint8x16_t; 4]) -> u64 {
        const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
        // SAFETY: `WEIGHTS` is 16 readable bytes.
        let weights = unsafe { vld1q_u8(WEIGHTS.as_ptr()) };
        let sum01 = vpaddq_u8(vandq_u8(m[0], weights), vandq_u8(m[1], weights));
        let sum23 = vpaddq_u8(vandq_u8(m[2], weights), vandq_u8(m[3], weights));
        let sum = vpaddq_u8(sum01, sum23);
        let sum = vpaddq_u8(sum, sum);
        vgetq_lane_u64(vreinterpretq_u64_u8(sum), 0)
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    pub use super::classify_portable as classify;

    pub fn classify_blocks(bytes: &[u8], out: &mut [super::Masks]) -> bool {
        super::classify_whole_blocks(bytes, out, classify)
    }
}
