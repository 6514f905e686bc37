//! A folder as an [`Archive`]: the local run's archive of trace files, keys being paths
//! relative to the folder with `/` between names (as in a bucket).

use std::io::Read;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ports::{Archive, Cause, ObjectBody, ObjectError, ObjectSource};
use rules::trace::stored::StoredObject;

/// Bytes read from a file at a time.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct FolderArchive {
    root: PathBuf,
}

impl FolderArchive {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderArchive { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys name files under the folder, never above it.
        let parts: Vec<&str> = key.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            return None;
        }
        Some(parts.iter().fold(self.root.clone(), |path, p| path.join(p)))
    }

    fn failed(&self, object: String, e: std::io::Error) -> ObjectError {
        if e.kind() == std::io::ErrorKind::NotFound {
            return ObjectError::Missing(object);
        }
        ObjectError::Failed {
            object,
            cause: Cause::new(e),
        }
    }
}

/// Every file under `folder`, as keys relative to `root`.
fn walk(root: &Path, folder: &Path, into: &mut Vec<(String, u64)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &entry.path(), into)?;
        } else if let Ok(relative) = entry.path().strip_prefix(root) {
            let key: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            into.push((key.join("/"), meta.len()));
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectSource for FolderArchive {
    async fn open(&self, object: &StoredObject) -> Result<Box<dyn ObjectBody>, ObjectError> {
        let name = object.key.clone();
        let path = self
            .path_of(&object.key)
            .ok_or_else(|| ObjectError::Missing(name.clone()))?;
        let file = std::fs::File::open(path).map_err(|e| self.failed(name.clone(), e))?;
        Ok(Box::new(FileBody { name, file }))
    }
}

#[async_trait]
impl Archive for FolderArchive {
    fn name(&self) -> String {
        self.root.display().to_string()
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(StoredObject, u64)>, ObjectError> {
        let mut files = Vec::new();
        match walk(&self.root, &self.root, &mut files) {
            Ok(()) => {}
            // No folder: an empty archive.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.failed(self.name(), e)),
        }
        files.sort();
        Ok(files
            .into_iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, size)| {
                let object = StoredObject {
                    bucket: String::new(),
                    key,
                };
                (object, size)
            })
            .collect())
    }
}

struct FileBody {
    name: String,
    file: std::fs::File,
}

#[async_trait]
impl ObjectBody for FileBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ObjectError> {
        // Local files, read in chunks small enough not to hold the runtime up.
        let mut chunk = vec![0u8; CHUNK];
        let n = self
            .file
            .read(&mut chunk)
            .map_err(|e| ObjectError::Failed {
                object: self.name.clone(),
                cause: Cause::new(e),
            })?;
        if n == 0 {
            return Ok(None);
        }
        chunk.truncate(n);
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_relative_paths_listed_under_a_prefix_and_never_escape_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("AWSLogs/1/CloudTrail/eu-west-1/2026/11/30");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("a.json.gz"), b"abc").unwrap();
        std::fs::write(dir.path().join("other.json"), b"[]").unwrap();
        let archive = FolderArchive::new(dir.path());
        let listed = archive.list("AWSLogs/").await.unwrap();
        let keys: Vec<(&str, u64)> = listed.iter().map(|(o, n)| (o.key.as_str(), *n)).collect();
        assert_eq!(
            keys,
            [("AWSLogs/1/CloudTrail/eu-west-1/2026/11/30/a.json.gz", 3)]
        );
        let mut body = archive.open(&listed[0].0).await.unwrap();
        assert_eq!(body.next_chunk().await.unwrap(), Some(b"abc".to_vec()));
        assert_eq!(body.next_chunk().await.unwrap(), None);
        for escaping in ["../secret", "AWSLogs//x", "/etc/passwd"] {
            let object = StoredObject {
                bucket: String::new(),
                key: escaping.into(),
            };
            assert!(
                matches!(archive.open(&object).await, Err(ObjectError::Missing(_))),
                "{escaping}"
            );
        }
        assert!(FolderArchive::new(dir.path().join("none"))
            .list("")
            .await
            .unwrap()
            .is_empty());
    }
}
