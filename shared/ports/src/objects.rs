//! Where trace files are read: the files storage notifications name (S3 on AWS), and the
//! archives the API backtests (a bucket, or a local folder).

use async_trait::async_trait;
use rules::trace::stored::StoredObject;

use crate::Cause;

/// Why an object could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ObjectError {
    /// Gone since it was notified (deleted, or a notification of another bucket's object):
    /// no retry will find it.
    #[error("{0}: no such object")]
    Missing(String),
    #[error("{object}: {cause}")]
    Failed { object: String, cause: Cause },
}

/// An object's bytes, as they arrive.
#[async_trait]
pub trait ObjectBody: Send {
    /// The next bytes; `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ObjectError>;
}

/// Opens stored objects for reading.
#[async_trait]
pub trait ObjectSource: Send + Sync {
    async fn open(&self, object: &StoredObject) -> Result<Box<dyn ObjectBody>, ObjectError>;
}

/// An archive of trace files: one bucket, or one folder.
#[async_trait]
pub trait Archive: ObjectSource {
    /// Where it is, for messages (`s3://bucket`, a folder's path).
    fn name(&self) -> String;

    /// The objects under `prefix`, each with its size in bytes, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<(StoredObject, u64)>, ObjectError>;
}

/// Bytes already in memory (a request's body), as one chunk.
#[derive(Debug)]
pub struct InMemoryBody(Option<Vec<u8>>);

impl InMemoryBody {
    pub fn new(bytes: Vec<u8>) -> Self {
        InMemoryBody(Some(bytes))
    }
}

#[async_trait]
impl ObjectBody for InMemoryBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ObjectError> {
        Ok(self.0.take())
    }
}
