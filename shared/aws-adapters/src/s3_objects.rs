//! Trace files in S3: read as a stream for the trace handler, listed for the backtest.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use ports::{Cause, ObjectBody, ObjectError, ObjectSource};
use rules::trace::stored::StoredObject;

/// An S3 client for `aws`: path-style addressing when an endpoint is set (moto and other local
/// servers serve buckets under the path, not as host names).
pub fn s3_client(aws: &SdkConfig) -> Client {
    let config = aws_sdk_s3::config::Builder::from(aws)
        .force_path_style(aws.endpoint_url().is_some())
        .build();
    Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct S3Objects {
    client: Client,
}

impl S3Objects {
    pub fn new(client: Client) -> Self {
        S3Objects { client }
    }

    /// Every object under `prefix`, in key order (S3 lists keys in UTF-8 byte order).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, ObjectError> {
        let pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut objects = Vec::new();
        for page in pages {
            let page = page.map_err(|e| ObjectError::Failed {
                object: format!("s3://{bucket}/{prefix}"),
                cause: Cause::new(e),
            })?;
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(StoredObject {
                    bucket: bucket.to_owned(),
                    key: o.key()?.to_owned(),
                })
            }));
        }
        Ok(objects)
    }

    /// Writes `bytes` as the object `bucket`/`key`.
    pub async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ObjectError::Failed {
                object: format!("s3://{bucket}/{key}"),
                cause: Cause::new(e),
            })
    }

    /// The whole object, for small ones (a backtest's tallies).
    pub async fn read_all(&self, object: &StoredObject) -> Result<Vec<u8>, ObjectError> {
        let mut body = self.open(object).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[async_trait]
impl ObjectSource for S3Objects {
    async fn open(&self, object: &StoredObject) -> Result<Box<dyn ObjectBody>, ObjectError> {
        let name = object.to_string();
        match self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
        {
            Ok(output) => Ok(Box::new(S3Body {
                name,
                body: output.body,
            })),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Err(ObjectError::Missing(name))
            }
            Err(e) => Err(ObjectError::Failed {
                object: name,
                cause: Cause::new(e),
            }),
        }
    }
}

struct S3Body {
    name: String,
    body: ByteStream,
}

#[async_trait]
impl ObjectBody for S3Body {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ObjectError> {
        match self.body.next().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes.to_vec())),
            Some(Err(e)) => Err(ObjectError::Failed {
                object: self.name.clone(),
                cause: Cause::new(e),
            }),
        }
    }
}
