use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;

use super::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Every record of `file` fed `chunk` bytes at a time, or the error that stopped it.
fn read(file: &[u8], chunk: usize, limits: Limits) -> Result<Vec<String>, FileError> {
    let mut reader = TraceFileReader::new(limits);
    let mut records = Vec::new();
    for piece in file.chunks(chunk.max(1)) {
        reader.feed(piece);
        while let Some(r) = reader.next_record()? {
            records.push(String::from_utf8(r.to_vec()).unwrap());
        }
    }
    reader.finish();
    while let Some(r) = reader.next_record()? {
        records.push(String::from_utf8(r.to_vec()).unwrap());
    }
    Ok(records)
}

fn all(file: &[u8]) -> Vec<String> {
    read(file, 1 << 20, Limits::default()).unwrap()
}

const A: &str =
    r#"{"eventName":"DeleteBucket","requestParameters":{"bucketName":"a]}\"{["},"tags":[1,[2]]}"#;
const B: &str = r#"{"eventName":"RunInstances","x":"\\","y":"\\\""}"#;

#[test]
fn each_layout_gives_its_records_whole_and_in_order() {
    let files = [
        format!(r#"{{"Records":[{A},{B}]}}"#),
        format!("{{\n  \"traces\" : [\n  {A} ,\n  {B}\n ]\n}}\n"),
        format!("[{A},{B}]"),
        format!("{A}\n{B}\n"),
        format!("\u{feff}{A}{B}"),
    ];
    for file in &files {
        assert_eq!(all(file.as_bytes()), [A, B], "{file}");
    }
}

#[test]
fn keys_after_the_records_array_are_skipped_even_when_they_hold_objects() {
    let file = format!(r#"{{"Records":[{A}],"more":[{B}],"n":1}}"#);
    assert_eq!(all(file.as_bytes()), [A]);
}

#[test]
fn an_object_whose_first_key_is_another_is_one_record_of_a_lines_file() {
    let file = format!(r#"{{"project_id":"p","traces":[{A}]}}"#);
    assert_eq!(all(file.as_bytes()), [file.as_str()]);
}

#[test]
fn records_that_are_not_objects_come_out_for_their_parser_to_refuse() {
    assert_eq!(
        all(br#"{"Records":[1, "two", null ,{}]}"#),
        ["1", "\"two\"", "null", "{}"]
    );
    assert_eq!(all(b"[true]"), ["true"]);
}

#[test]
fn empty_files_and_empty_arrays_have_no_records() {
    for file in ["", "  \n", r#"{"Records":[]}"#, "[]"] {
        assert_eq!(all(file.as_bytes()), Vec::<String>::new(), "{file:?}");
    }
}

#[test]
fn gzip_is_told_by_its_bytes_and_concatenated_members_are_all_read() {
    let mut file = gzip(format!(r#"{{"Records":[{A}]}}"#).as_bytes());
    assert_eq!(all(&file), [A]);
    file = gzip(format!("{A}\n").as_bytes());
    file.extend(gzip(format!("{B}\n").as_bytes()));
    assert_eq!(all(&file), [A, B]);
}

#[test]
fn files_that_are_not_trace_files_fail_with_what_is_wrong() {
    let cases: [(&[u8], FileError); 5] = [
        (
            b"hello",
            FileError::NotJson("a trace file starts with { or ["),
        ),
        (br#"{"Records":[{"a":1}"#, FileError::Truncated),
        (br#"{"Records":[{"a":"1}]}"#, FileError::Truncated),
        (
            b"[{}]]",
            FileError::NotJson("a bracket closes that never opened"),
        ),
        (b"[{}", FileError::Truncated),
    ];
    for (file, expected) in cases {
        assert_eq!(
            read(file, 3, Limits::default()),
            Err(expected),
            "{}",
            String::from_utf8_lossy(file)
        );
    }
}

#[test]
fn corrupt_and_truncated_gzip_fail() {
    let good = gzip(format!(r#"{{"Records":[{A},{B}]}}"#).as_bytes());
    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    corrupt[middle + 1] ^= 0x55;
    assert!(matches!(all_or_error(&corrupt), Err(FileError::Gzip(_))));
    let truncated = &good[..good.len() - 4];
    assert!(matches!(all_or_error(truncated), Err(FileError::Gzip(_))));
}

fn all_or_error(file: &[u8]) -> Result<Vec<String>, FileError> {
    read(file, 7, Limits::default())
}

#[test]
fn a_gzip_bomb_stops_at_the_limit_and_holds_little() {
    let zeros = vec![b' '; 64 << 20];
    let bomb = gzip(&zeros);
    let limits = Limits {
        max_bytes: 8 << 20,
        max_record: MAX_RECORD_BYTES,
    };
    let mut reader = TraceFileReader::new(limits);
    reader.feed(&bomb);
    reader.finish();
    let result = loop {
        match reader.next_record() {
            Ok(Some(_)) => continue,
            other => break other.map(|_| ()),
        }
    };
    assert_eq!(result, Err(FileError::TooLarge(8 << 20)));
    assert!(
        reader.bytes_held() < (16 << 20) + bomb.len(),
        "{}",
        reader.bytes_held()
    );
}

#[test]
fn a_record_over_the_limit_fails_the_file() {
    let big = format!(r#"[{{"a":"{}"}}]"#, "x".repeat(5000));
    let limits = Limits {
        max_bytes: 1 << 20,
        max_record: 4096,
    };
    assert_eq!(
        read(big.as_bytes(), 100, limits),
        Err(FileError::RecordTooLarge(4096))
    );
}

#[test]
fn memory_holds_a_chunk_and_a_record_not_the_file() {
    let record = format!(r#"{{"eventName":"PutObject","pad":"{}"}}"#, "y".repeat(900));
    let count = 40_000; // about 37 MB decompressed
    let mut plain = Vec::from(&b"{\"Records\":["[..]);
    for i in 0..count {
        if i > 0 {
            plain.push(b',');
        }
        plain.extend_from_slice(record.as_bytes());
    }
    plain.extend_from_slice(b"]}");
    let file = gzip(&plain);
    drop(plain);
    let mut reader = TraceFileReader::new(Limits::default());
    let (mut records, mut most_held) = (0, 0);
    for piece in file.chunks(64 * 1024) {
        reader.feed(piece);
        while reader.next_record().unwrap().is_some() {
            records += 1;
        }
        most_held = most_held.max(reader.bytes_held());
    }
    reader.finish();
    while reader.next_record().unwrap().is_some() {
        records += 1;
    }
    assert_eq!(records, count);
    assert!(most_held < 1 << 20, "held {most_held} bytes");
}

fn record_strategy() -> impl Strategy<Value = String> {
    // Objects with strings that hold every character the splitter must not be fooled by.
    proptest::collection::vec("[a-z\\[\\]{},:\" \\\\]{0,12}", 0..4).prop_map(|values| {
        let fields: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("\"k{i}\":{}", serde_json_string(v)))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

/// Records of a few hundred bytes, so that strings, escapes and brackets fall on every side of
/// the 64-byte blocks the splitter reads records by.
fn long_record_strategy() -> impl Strategy<Value = String> {
    let text = "([a-z]{0,40}[\\[\\]{},:\" \\\\]{1,3}){0,6}";
    let value = prop_oneof![
        text.prop_map(|v| serde_json_string(&v)),
        proptest::collection::vec(text, 0..4).prop_map(|vs| format!(
            "[{}]",
            vs.iter()
                .map(|v| serde_json_string(v))
                .collect::<Vec<_>>()
                .join(",")
        )),
        (text, text).prop_map(|(k, v)| format!(
            "{{{}:[{{}},{}]}}",
            serde_json_string(&k),
            serde_json_string(&v)
        )),
        Just("-12.5e3".to_owned()),
    ];
    proptest::collection::vec(value, 0..12).prop_map(|values| {
        let fields: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("\"k{i}\" : {v}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

/// A JSON string of `v`, escaping what JSON needs escaped.
fn serde_json_string(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `records` in one of the four layouts (`layout` 0 to 3), joined in arrays by `separator`.
fn file_of(records: &[String], layout: usize, separator: &str) -> String {
    let joined = records.join(separator);
    match layout {
        0 => format!(r#"{{"Records":[{joined}]}}"#),
        1 => format!(r#"{{"traces": [{joined}], "next": [{{}}]}}"#),
        2 => format!("[{joined}]"),
        _ => records.join("\n"),
    }
}

proptest! {
    #[test]
    fn any_chunking_of_any_layout_gives_the_same_records(
        records in proptest::collection::vec(record_strategy(), 0..6),
        layout in 0..4usize,
        gzipped: bool,
        chunk in 1..40usize,
    ) {
        let file = file_of(&records, layout, ",");
        let bytes = if gzipped { gzip(file.as_bytes()) } else { file.into_bytes() };
        prop_assert_eq!(read(&bytes, chunk, Limits::default()).unwrap(), records);
    }

    #[test]
    fn records_longer_than_blocks_split_the_same_in_any_chunking(
        records in proptest::collection::vec(long_record_strategy(), 1..6),
        layout in 0..4usize,
        gzipped: bool,
        chunk in 1..300usize,
    ) {
        let file = file_of(&records, layout, " ,\n");
        for record in &records {
            serde_json::from_str::<serde_json::Value>(record).expect("the strategy writes JSON");
        }
        let bytes = if gzipped { gzip(file.as_bytes()) } else { file.into_bytes() };
        prop_assert_eq!(read(&bytes, chunk, Limits::default()).unwrap(), records);
    }
}
