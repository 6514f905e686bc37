//! Storage event notifications that name trace files: S3's own (`{"Records": [{"eventSource":
//! "aws:s3", "s3": {...}}]}`, direct or as an SQS body), EventBridge's `Object Created`, and S3's
//! test event (which names nothing). Only the names are read here; the files are read by whoever
//! can reach the storage.

use serde::Deserialize;
use serde_json::value::RawValue;

/// One stored object a notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bucket: String,
    pub key: String,
}

impl std::fmt::Display for StoredObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[derive(Deserialize)]
struct S3Record {
    #[serde(rename = "eventSource")]
    event_source: String,
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Named,
    object: Keyed,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Keyed {
    key: String,
}

#[derive(Deserialize)]
struct TestEvent<'a> {
    #[serde(rename = "Event", borrow)]
    event: &'a str,
}

/// True for a record of an S3 event notification.
pub(crate) fn is_s3_record(record: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Source<'a> {
        #[serde(rename = "eventSource", borrow)]
        event_source: Option<&'a str>,
    }
    serde_json::from_str::<Source<'_>>(record.get()).is_ok_and(|s| s.event_source == Some("aws:s3"))
}

/// The created objects of an S3 notification's records (keys arrive URL-encoded); other events
/// (deletions, restores) name nothing to read. `None` when a record is not an S3 record.
pub(crate) fn s3_notification(records: &[&RawValue]) -> Option<Vec<StoredObject>> {
    let mut objects = Vec::new();
    for record in records {
        let record: S3Record = serde_json::from_str(record.get()).ok()?;
        if record.event_source != "aws:s3" {
            return None;
        }
        if record.event_name.starts_with("ObjectCreated:") {
            objects.push(StoredObject {
                bucket: record.s3.bucket.name,
                key: url_decoded(&record.s3.object.key),
            });
        }
    }
    Some(objects)
}

/// S3's `s3:TestEvent`, sent once when a notification is configured: nothing to read.
pub(crate) fn is_s3_test_event(doc: &str) -> bool {
    serde_json::from_str::<TestEvent<'_>>(doc).is_ok_and(|t| t.event == "s3:TestEvent")
}

/// EventBridge's `Object Created` detail (keys arrive as they are).
pub(crate) fn object_created(detail: &RawValue) -> Option<StoredObject> {
    let entity: S3Entity = serde_json::from_str(detail.get()).ok()?;
    Some(StoredObject {
        bucket: entity.bucket.name,
        key: entity.object.key,
    })
}

/// An S3 notification's key: form-encoded (`+` for a space, `%XX` for other bytes).
fn url_decoded(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match key
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded_as_s3_encodes_them() {
        assert_eq!(
            url_decoded("a+b%2Fc%3D%E2%82%AC.json.gz"),
            "a b/c=€.json.gz"
        );
        assert_eq!(url_decoded("100%"), "100%");
        assert_eq!(url_decoded("%zz"), "%zz");
    }
}
