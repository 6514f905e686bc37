//! The block path of [`super::unescape_into`]: 64 bytes classified at a time, the escaping
//! backslashes found from their mask, and each eight bytes stored without them by a byte
//! shuffle (SSSE3's `pshufb`, NEON's `tbl`) from a table of the bytes each drop mask keeps, or
//! the whole block by AVX-512 VBMI2's `vpcompressb`.

use crate::{escaped_positions, Masks};

use super::SIMPLE;

/// For each mask of bytes to drop out of eight, the indices of those kept, in order, then
/// 0xff (which both shuffles turn into a zero byte: `pshufb` for its high bit, `tbl` for being
/// out of range).
const KEEP: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut indices, mut kept) = (u64::MAX, 0);
        let mut j = 0;
        while j < 8 {
            if mask & (1 << j) == 0 {
                indices &= !(0xff << (8 * kept));
                indices |= (j as u64) << (8 * kept);
                kept += 1;
            }
            j += 1;
        }
        table[mask] = indices;
        mask += 1;
    }
    table
};

/// The instructions a block path is compiled for.
trait Shuffle {
    /// # Safety
    /// The CPU must have the instructions the implementation uses.
    unsafe fn classify(block: &[u8; 64]) -> Masks;

    /// Stores the eight bytes at `from` that `keep` (a [`KEEP`] entry) names, in order, at `to`.
    ///
    /// # Safety
    /// `from` must be readable and `to` writable for eight bytes; the CPU must have the
    /// instructions the implementation uses.
    unsafe fn compress8(from: *const u8, keep: u64, to: *mut u8);

    /// Stores the bytes of `block` that `dropped` does not name, in order, at `to`: eight
    /// bytes at a time unless the implementation has a wider compress.
    ///
    /// # Safety
    /// `to` must be writable for 64 bytes; the CPU must have the instructions the
    /// implementation uses.
    #[inline(always)]
    unsafe fn compress64(block: &[u8; 64], dropped: u64, to: *mut u8)
    where
        Self: Sized,
    {
        // SAFETY: the caller's.
        unsafe { compress_by_eights::<Self>(block, dropped, to) }
    }
}

/// [`Shuffle::compress64`] by eight [`Shuffle::compress8`]s.
///
/// # Safety
/// As [`Shuffle::compress64`].
#[inline(always)]
unsafe fn compress_by_eights<S: Shuffle>(block: &[u8; 64], dropped: u64, to: *mut u8) {
    let mut o = 0;
    for k in 0..8 {
        let drop = (dropped >> (8 * k)) as u8;
        // SAFETY: bytes 8k..8k+8 of the block; o <= 8k, so the store ends within 64.
        unsafe {
            S::compress8(
                block.as_ptr().add(8 * k),
                KEEP[usize::from(drop)],
                to.add(o),
            )
        };
        o += 8 - drop.count_ones() as usize;
    }
}

/// Decodes the whole 64-byte blocks of `src` into `dst`, returning where the decoder that stops
/// at each escape is to go on (`i`: the backslash of an escape the last block cut, if any) and
/// the length written; `None` when a block holds an escape that is not one byte (`\u`, or an invalid one):
/// the string is then decoded from its start by that decoder.
///
/// # Safety
/// `dst` must have room for `src.len() + 16` bytes, and the CPU the instructions of `S`.
#[inline(always)]
unsafe fn blocks<S: Shuffle>(src: &[u8], dst: *mut u8) -> Option<(usize, usize)> {
    let (mut i, mut o, mut carry) = (0, 0, 0u64);
    while let Some(block) = src.get(i..i + 64) {
        let block: &[u8; 64] = block.try_into().ok()?;
        // SAFETY: the caller's.
        let masks = unsafe { S::classify(block) };
        let escaped = escaped_positions(masks.backslashes, &mut carry);
        // A backslash is dropped when the byte after it is escaped; for the last byte of the
        // block, that byte is the next block's first (the carry).
        let dropped = (escaped >> 1) | (carry << 63);
        let letters = escaped & !(masks.quotes | masks.backslashes);
        let mut translated;
        let bytes = if letters == 0 {
            block
        } else {
            translated = *block;
            translate(&mut translated, letters)?;
            &translated
        };
        // SAFETY: o <= i and the block is whole, so the 64 bytes stored end within src.len().
        unsafe { S::compress64(bytes, dropped, dst.add(o)) };
        o += 64 - dropped.count_ones() as usize;
        i += 64;
    }
    Some((i - carry as usize, o))
}

/// Replaces each escaped letter of `block` (bits of `letters`) with the byte it stands for;
/// `None` for `u` and invalid escapes.
#[inline]
fn translate(block: &mut [u8; 64], mut letters: u64) -> Option<()> {
    while letters != 0 {
        let at = letters.trailing_zeros() as usize;
        let byte = block.get_mut(at)?;
        match SIMPLE[usize::from(*byte)] {
            0 => return None,
            simple => *byte = simple,
        }
        letters &= letters - 1;
    }
    Some(())
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    use super::Shuffle;

    use crate::Masks;

    /// SSE2's classification, SSSE3's shuffle.
    struct Ssse3;

    /// AVX-512BW's classification (one compare a class); with `VBMI2`, a block stored by one
    /// compress instruction, else by SSSE3's shuffle eight bytes at a time.
    struct Avx512<const VBMI2: bool>;

    impl Shuffle for Ssse3 {
        #[inline(always)]
        unsafe fn classify(block: &[u8; 64]) -> Masks {
            crate::classify(block)
        }

        #[inline(always)]
        unsafe fn compress8(from: *const u8, keep: u64, to: *mut u8) {
            // SAFETY: the caller's.
            unsafe {
                let bytes = _mm_loadl_epi64(from.cast());
                let kept = _mm_shuffle_epi8(bytes, _mm_cvtsi64_si128(keep as i64));
                _mm_storel_epi64(to.cast(), kept);
            }
        }
    }

    impl<const VBMI2: bool> Shuffle for Avx512<VBMI2> {
        #[inline(always)]
        unsafe fn classify(block: &[u8; 64]) -> Masks {
            // SAFETY: the caller's (AVX-512BW).
            unsafe { crate::imp::classify_avx512(block) }
        }

        #[inline(always)]
        unsafe fn compress8(from: *const u8, keep: u64, to: *mut u8) {
            // SAFETY: the caller's.
            unsafe { Ssse3::compress8(from, keep, to) }
        }

        #[inline(always)]
        unsafe fn compress64(block: &[u8; 64], dropped: u64, to: *mut u8) {
            // SAFETY: the caller's: 64 bytes to read and to write; AVX-512 VBMI2 with `VBMI2`.
            unsafe {
                if !VBMI2 {
                    return super::compress_by_eights::<Self>(block, dropped, to);
                }
                let bytes = _mm512_loadu_si512(block.as_ptr().cast());
                _mm512_storeu_si512(to.cast(), _mm512_maskz_compress_epi8(!dropped, bytes));
            }
        }
    }

    /// # Safety
    /// `dst` must have room for `src.len() + 16` bytes.
    pub(in crate::unescape) unsafe fn unescape_blocks(
        src: &[u8],
        dst: *mut u8,
    ) -> Option<(usize, usize)> {
        if src.len() < 64 {
            return Some((0, 0));
        }
        // SAFETY: each path runs only on a CPU found to have its instructions; the room is
        // the caller's.
        unsafe {
            if std::arch::is_x86_feature_detected!("avx512vbmi2")
                && std::arch::is_x86_feature_detected!("avx512bw")
            {
                blocks_avx512_vbmi2(src, dst)
            } else if std::arch::is_x86_feature_detected!("avx512bw") {
                blocks_avx512(src, dst)
            } else if std::arch::is_x86_feature_detected!("ssse3") {
                blocks_ssse3(src, dst)
            } else {
                Some((0, 0))
            }
        }
    }

    #[target_feature(enable = "ssse3")]
    unsafe fn blocks_ssse3(src: &[u8], dst: *mut u8) -> Option<(usize, usize)> {
        // SAFETY: the caller's.
        unsafe { super::blocks::<Ssse3>(src, dst) }
    }

    #[target_feature(enable = "avx512bw,ssse3")]
    unsafe fn blocks_avx512(src: &[u8], dst: *mut u8) -> Option<(usize, usize)> {
        // SAFETY: the caller's.
        unsafe { super::blocks::<Avx512<false>>(src, dst) }
    }

    #[target_feature(enable = "avx512bw,avx512vbmi2,ssse3")]
    unsafe fn blocks_avx512_vbmi2(src: &[u8], dst: *mut u8) -> Option<(usize, usize)> {
        // SAFETY: the caller's.
        unsafe { super::blocks::<Avx512<true>>(src, dst) }
    }

    /// Every path this CPU can run gives what the decoder that stops at each escape gives.
    #[cfg(test)]
    #[test]
    fn every_path_equals_the_decoder_of_runs() {
        let text = r#"{\"a\":\"b\\\"c\\\\\",\"d\":[1,2],\"e\":\"\/x\ny\tz\"}"#.repeat(9);
        let src = text.as_bytes();
        type Path = unsafe fn(&[u8], *mut u8) -> Option<(usize, usize)>;
        let decode = |path: Path| {
            let mut out = vec![0u8; src.len() + 16];
            // SAFETY: `out` has the room; each path is called only when detected below.
            let (i, o) = unsafe { path(src, out.as_mut_ptr()) }.unwrap();
            let o = unsafe { crate::unescape::unescape_runs(src, out.as_mut_ptr(), i, o) }.unwrap();
            out.truncate(o);
            out
        };
        let mut expected = vec![0u8; src.len() + 16];
        // SAFETY: `expected` has the room.
        let o =
            unsafe { crate::unescape::unescape_runs(src, expected.as_mut_ptr(), 0, 0) }.unwrap();
        expected.truncate(o);
        if std::arch::is_x86_feature_detected!("ssse3") {
            assert_eq!(decode(blocks_ssse3), expected, "SSSE3");
        }
        if std::arch::is_x86_feature_detected!("avx512bw") {
            assert_eq!(decode(blocks_avx512), expected, "AVX-512");
        }
        if std::arch::is_x86_feature_detected!("avx512vbmi2")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            assert_eq!(decode(blocks_avx512_vbmi2), expected, "AVX-512 VBMI2");
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use core::arch::aarch64::*;

    use super::Shuffle;

    struct Neon;

    impl Shuffle for Neon {
        #[inline(always)]
        unsafe fn classify(block: &[u8; 64]) -> crate::Masks {
            crate::classify(block)
        }

        #[inline(always)]
        unsafe fn compress8(from: *const u8, keep: u64, to: *mut u8) {
            // SAFETY: the caller's; NEON is part of aarch64.
            unsafe { vst1_u8(to, vtbl1_u8(vld1_u8(from), vcreate_u8(keep))) }
        }
    }

    /// # Safety
    /// `dst` must have room for `src.len() + 16` bytes.
    pub(in crate::unescape) unsafe fn unescape_blocks(
        src: &[u8],
        dst: *mut u8,
    ) -> Option<(usize, usize)> {
        // SAFETY: the caller's.
        unsafe { super::blocks::<Neon>(src, dst) }
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    /// No shuffle here: the decoder that stops at each escape does it all.
    pub(in crate::unescape) unsafe fn unescape_blocks(
        _: &[u8],
        _: *mut u8,
    ) -> Option<(usize, usize)> {
        Some((0, 0))
    }
}

pub(super) use imp::unescape_blocks;
