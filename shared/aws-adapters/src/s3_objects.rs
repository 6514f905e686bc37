//! Trace files in S3: read as a stream for the trace handler, listed for backtests.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use ports::{Archive, Cause, ObjectBody, ObjectError, ObjectSource};
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
        Ok(self
            .list_sized(bucket, prefix)
            .await?
            .into_iter()
            .map(|(object, _)| object)
            .collect())
    }

    /// [`S3Objects::list`], with each object's size.
    pub async fn list_sized(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(StoredObject, u64)>, ObjectError> {
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
                let object = StoredObject {
                    bucket: bucket.to_owned(),
                    key: o.key()?.to_owned(),
                };
                Some((object, o.size().unwrap_or(0).max(0) as u64))
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

/// One bucket as an [`Archive`]: the trace bucket the API backtests.
#[derive(Debug, Clone)]
pub struct S3Archive {
    objects: S3Objects,
    bucket: String,
}

impl S3Archive {
    pub fn new(objects: S3Objects, bucket: impl Into<String>) -> Self {
        S3Archive {
            objects,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl ObjectSource for S3Archive {
    async fn open(&self, object: &StoredObject) -> Result<Box<dyn ObjectBody>, ObjectError> {
        self.objects.open(object).await
    }
}

#[async_trait]
impl Archive for S3Archive {
    fn name(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(StoredObject, u64)>, ObjectError> {
        self.objects.list_sized(&self.bucket, prefix).await
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
