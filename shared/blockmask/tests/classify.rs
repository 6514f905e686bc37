use blockmask::{classify, classify_portable};
use proptest::prelude::*;

/// Bytes that matter to the masks, and their neighbours, are drawn far more often than chance
/// would draw them.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'"'),
        Just(b'\\'),
        0x00u8..=0x20,
        Just(0x7f),
        Just(0x80),
        Just(0xff),
        Just(b'!'),
        Just(b'#'),
        Just(b'['),
        Just(b']'),
        Just(b'{'),
        Just(b'}'),
        Just(b'{' ^ 0x20),
        Just(b'}' ^ 0x20),
        any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn vector_path_equals_the_definition(bytes in proptest::collection::vec(interesting_byte(), 64)) {
        let block: [u8; 64] = bytes.try_into().unwrap();
        prop_assert_eq!(classify(&block), classify_portable(&block));
    }
}

#[test]
fn every_byte_value_at_every_position() {
    for value in 0..=255u8 {
        for position in 0..64 {
            let mut block = [b'a'; 64];
            block[position] = value;
            assert_eq!(
                classify(&block),
                classify_portable(&block),
                "byte {value:#04x} at {position}"
            );
        }
    }
    let mut block = [b'"'; 64];
    assert_eq!(classify(&block).quotes, u64::MAX);
    block = [b'\\'; 64];
    assert_eq!(classify(&block).backslashes, u64::MAX);
    block = [0x1f; 64];
    assert_eq!(classify(&block).controls, u64::MAX);
}

#[test]
fn text_is_returned_for_ascii_and_utf8_and_refused_otherwise() {
    use blockmask::{blocks_in, classify_text, TextError};
    let mut out = vec![Default::default(); 8];
    for text in [
        "",
        "{}",
        &"a\"b\\c".repeat(40),
        &"é€😀".repeat(30),
        &"x".repeat(64),
    ] {
        let n = blocks_in(text.len());
        assert_eq!(classify_text(text.as_bytes(), &mut out), Ok(text));
        for (k, masks) in out[..n].iter().enumerate() {
            let mut block = [b' '; 64];
            let part = &text.as_bytes()[64 * k..text.len().min(64 * k + 64)];
            block[..part.len()].copy_from_slice(part);
            assert_eq!(*masks, classify_portable(&block));
        }
    }
    let mut bad = "a".repeat(100).into_bytes();
    bad[70] = 0xff;
    assert_eq!(
        classify_text(&bad, &mut out),
        Err(TextError::NotUtf8 { valid_up_to: 70 })
    );
    assert_eq!(
        classify_text(&[b'a'; 65], &mut out[..1]),
        Err(TextError::BufferTooSmall)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Whole documents take the widest vector path the CPU has; each block must still equal
    /// the definition, the partial last one padded with spaces.
    #[test]
    fn documents_equal_the_definition_block_by_block(
        bytes in proptest::collection::vec(interesting_byte(), 0..400),
    ) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut out = vec![Default::default(); blockmask::blocks_in(text.len())];
        prop_assert_eq!(blockmask::classify_text(text.as_bytes(), &mut out), Ok(text.as_str()));
        for (k, masks) in out.iter().enumerate() {
            let mut block = [b' '; 64];
            let part = &text.as_bytes()[64 * k..text.len().min(64 * k + 64)];
            block[..part.len()].copy_from_slice(part);
            prop_assert_eq!(*masks, classify_portable(&block));
        }
    }

    /// The structure of whole blocks, by the widest path the CPU has; a partial last block is
    /// left alone.
    #[test]
    fn structure_equals_the_definition_block_by_block(
        bytes in proptest::collection::vec(interesting_byte(), 0..400),
    ) {
        use blockmask::{classify_structure, classify_structure_portable, Structure};
        let mut out = vec![Structure::default(); 8];
        let whole = bytes.len() / 64;
        prop_assert_eq!(classify_structure(&bytes, &mut out), whole);
        for (k, chunk) in bytes.chunks_exact(64).enumerate() {
            prop_assert_eq!(out[k], classify_structure_portable(chunk.try_into().unwrap()));
        }
        prop_assert!(out[whole..].iter().all(|s| *s == Structure::default()));
        prop_assert_eq!(classify_structure(&bytes, &mut out[..1]), whole.min(1));
    }
}
