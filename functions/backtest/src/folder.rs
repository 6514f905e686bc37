//! An archive in a folder: every trace file under it (by name: digest files and others left
//! out), read by as many threads as there are cores.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rules::backtest::{BacktestRules, Tally, TimeRange};
use trace_files::FileKind;

use crate::progress::Progress;

/// The trace files under `root`, in path order.
pub fn trace_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                folders.push(path);
            } else if FileKind::of(&path.to_string_lossy()) == FileKind::Traces {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Tallies every file of `files` on `threads` threads.
pub fn tally_files(
    files: &[PathBuf],
    rules: &BacktestRules,
    range: TimeRange,
    threads: usize,
    progress: &Progress,
) -> Tally {
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Tally::new(rules));
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, files.len().max(1)) {
            scope.spawn(|| {
                let mut mine = Tally::new(rules);
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = path.display().to_string();
                    let tally = match std::fs::File::open(path) {
                        Ok(file) => crate::engine::tally_read(&name, rules, range, file, |n| {
                            progress.read(n)
                        }),
                        Err(e) => {
                            let file = crate::engine::FileTally::new(&name, rules, range);
                            file.finish(rules, Some(e.to_string()))
                        }
                    };
                    progress.file_done(tally.records);
                    mine.merge(tally).expect("tallies of the same rules");
                }
                total
                    .lock()
                    .expect("no thread panics holding it")
                    .merge(mine)
                    .expect("tallies of the same rules");
            });
        }
    });
    total.into_inner().expect("no thread panics holding it")
}
