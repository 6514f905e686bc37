//! The local run's implementations of the ports: [`RedbStore`] (notification store and dedup
//! log in one embedded database file), [`FileTopic`] and [`FileFunctions`] (topic messages and
//! function invocations as lines of files), [`FolderArchive`] (trace files in a folder). The AWS implementations live in `aws-adapters`.

mod file_functions;
mod file_topic;
mod folder_archive;
mod json_lines;
mod redb_store;

pub use file_functions::FileFunctions;
pub use file_topic::FileTopic;
pub use folder_archive::FolderArchive;
pub use redb_store::RedbStore;
