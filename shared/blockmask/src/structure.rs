//! The bytes that give a JSON text its shape, a block at a time: what a reader needs to find
//! where each value of a long text ends (strings from their quotes and escapes, containers
//! from their brackets) without looking at the bytes between.

/// Bit k for byte k of one 64-byte block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Structure {
    /// `"`
    pub quotes: u64,
    /// `\`
    pub backslashes: u64,
    /// `{` and `[`
    pub opens: u64,
    /// `}` and `]`
    pub closes: u64,
}

/// Classifies each whole 64-byte block of `bytes` into `out`, as many as both hold; returns
/// how many. A partial last block is left to the caller.
pub fn classify_structure(bytes: &[u8], out: &mut [Structure]) -> usize {
    imp::classify_blocks(bytes, out);
    out.len().min(bytes.len() / 64)
}

/// The portable definition, which the vector paths must equal.
pub fn classify_structure_portable(block: &[u8; 64]) -> Structure {
    let mut s = Structure::default();
    for (k, &byte) in block.iter().enumerate() {
        let bit = 1u64 << k;
        match byte {
            b'"' => s.quotes |= bit,
            b'\\' => s.backslashes |= bit,
            b'{' | b'[' => s.opens |= bit,
            b'}' | b']' => s.closes |= bit,
            _ => {}
        }
    }
    s
}

/// Classifies the whole blocks of `bytes` into `out` with `classify`. Inlined into each caller
/// so that it is compiled with the caller's target features.
#[inline(always)]
fn each_block(bytes: &[u8], out: &mut [Structure], classify: impl Fn(&[u8; 64]) -> Structure) {
    for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(64)) {
        if let Ok(block) = chunk.try_into() {
            *slot = classify(block);
        }
    }
}

// `{` is 0x7b and `[` 0x5b, `}` 0x7d and `]` 0x5d: with bit 5 set, each pair is one byte, so
// one compare finds both (no other byte becomes 0x7b or 0x7d).
const CASE_BIT: u8 = 0x20;

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    use super::{each_block, Structure, CASE_BIT};

    pub(super) fn classify_blocks(bytes: &[u8], out: &mut [Structure]) {
        if std::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU has AVX-512BW, checked just above.
            unsafe { classify_blocks_avx512(bytes, out) }
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { classify_blocks_avx2(bytes, out) }
        } else {
            // SAFETY: SSE2 is part of every x86_64 CPU.
            unsafe { classify_blocks_sse2(bytes, out) }
        }
    }

    #[target_feature(enable = "avx512bw")]
    fn classify_blocks_avx512(bytes: &[u8], out: &mut [Structure]) {
        each_block(bytes, out, |block| {
            // SAFETY: `block` is 64 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
            let folded = _mm512_or_si512(v, _mm512_set1_epi8(CASE_BIT as i8));
            Structure {
                quotes: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
                backslashes: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
                opens: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'{' as i8)),
                closes: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
            }
        })
    }

    #[target_feature(enable = "avx2")]
    fn classify_blocks_avx2(bytes: &[u8], out: &mut [Structure]) {
        each_block(bytes, out, |block| {
            // SAFETY: both halves are 32 readable bytes; `loadu` has no alignment requirement.
            let halves = unsafe {
                [
                    _mm256_loadu_si256(block.as_ptr().cast()),
                    _mm256_loadu_si256(block.as_ptr().add(32).cast()),
                ]
            };
            let bits = |byte: u8, case_bit: u8| {
                let (want, fold) = (
                    _mm256_set1_epi8(byte as i8),
                    _mm256_set1_epi8(case_bit as i8),
                );
                let half =
                    |v| _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(v, fold), want));
                (half(halves[0]) as u32 as u64) | (half(halves[1]) as u32 as u64) << 32
            };
            Structure {
                quotes: bits(b'"', 0),
                backslashes: bits(b'\\', 0),
                opens: bits(b'{', CASE_BIT),
                closes: bits(b'}', CASE_BIT),
            }
        })
    }

    #[target_feature(enable = "sse2")]
    fn classify_blocks_sse2(bytes: &[u8], out: &mut [Structure]) {
        each_block(bytes, out, |block| {
            let mut s = Structure::default();
            let fold = _mm_set1_epi8(CASE_BIT as i8);
            for (k, chunk) in block.chunks_exact(16).enumerate() {
                // SAFETY: `chunk` is 16 readable bytes and `loadu` has no alignment requirement.
                let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
                let folded = _mm_or_si128(v, fold);
                let bits = |v, byte: u8| {
                    (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8))) as u16 as u64)
                        << (16 * k)
                };
                s.quotes |= bits(v, b'"');
                s.backslashes |= bits(v, b'\\');
                s.opens |= bits(folded, b'{');
                s.closes |= bits(folded, b'}');
            }
            s
        })
    }

    /// Every path this CPU can run must give what the definition gives.
    #[cfg(test)]
    #[test]
    fn every_path_equals_the_definition() {
        // The bracket bytes, and those one case bit away from them.
        crate::assert_paths_equal_definition(
            b"\"\\{}[];=]}\x7f\xdb\xfba",
            20,
            super::classify_structure_portable,
            &[
                ("SSE2", true, &|b, o| {
                    // SAFETY: SSE2 is part of every x86_64 CPU.
                    unsafe { classify_blocks_sse2(b, o) }
                }),
                ("AVX2", std::is_x86_feature_detected!("avx2"), &|b, o| {
                    // SAFETY: called only when the CPU has AVX2.
                    unsafe { classify_blocks_avx2(b, o) }
                }),
                (
                    "AVX-512",
                    std::is_x86_feature_detected!("avx512bw"),
                    &|b, o| {
                        // SAFETY: called only when the CPU has AVX-512BW.
                        unsafe { classify_blocks_avx512(b, o) }
                    },
                ),
            ],
        );
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use core::arch::aarch64::*;

    use super::{each_block, Structure, CASE_BIT};

    pub(super) fn classify_blocks(bytes: &[u8], out: &mut [Structure]) {
        // SAFETY: NEON is part of every aarch64 CPU.
        unsafe { classify_blocks_neon(bytes, out) }
    }

    #[target_feature(enable = "neon")]
    fn classify_blocks_neon(bytes: &[u8], out: &mut [Structure]) {
        each_block(bytes, out, |block| {
            // SAFETY: `block` is 64 readable bytes, exactly what the four-register load reads.
            let v = unsafe { vld1q_u8_x4(block.as_ptr()) };
            let fold = vdupq_n_u8(CASE_BIT);
            let bits = |byte: u8, fold| {
                let want = vdupq_n_u8(byte);
                let eq = |v| vceqq_u8(vorrq_u8(v, fold), want);
                crate::imp::to_bits([eq(v.0), eq(v.1), eq(v.2), eq(v.3)])
            };
            Structure {
                quotes: bits(b'"', vdupq_n_u8(0)),
                backslashes: bits(b'\\', vdupq_n_u8(0)),
                opens: bits(b'{', fold),
                closes: bits(b'}', fold),
            }
        })
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    use super::{classify_structure_portable, each_block, Structure};

    pub(super) fn classify_blocks(bytes: &[u8], out: &mut [Structure]) {
        each_block(bytes, out, classify_structure_portable)
    }
}
