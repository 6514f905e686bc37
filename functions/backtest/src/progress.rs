//! A progress line on stderr (files, records, rate) while a backtest runs, when stderr is a
//! terminal; nothing otherwise.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Progress {
    files: u64,
    files_done: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    started: Instant,
    done: AtomicBool,
}

impl Progress {
    pub fn new(files: usize) -> Self {
        Progress {
            files: files as u64,
            files_done: AtomicU64::new(0),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            started: Instant::now(),
            done: AtomicBool::new(false),
        }
    }

    /// Compressed bytes read.
    pub fn read(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn file_done(&self, records: u64) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
    }

    pub fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
    }

    /// Redraws the line every quarter second until [`Progress::finish`], if stderr is a
    /// terminal.
    pub fn draw_until_done(&self) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        while !self.done.load(Ordering::Relaxed) {
            self.draw();
            std::thread::sleep(Duration::from_millis(250));
        }
        self.draw();
        eprintln!();
    }

    fn draw(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let records = self.records.load(Ordering::Relaxed);
        let done = self.files_done.load(Ordering::Relaxed);
        let width = 30;
        let filled = (done * width).checked_div(self.files).unwrap_or(width) as usize;
        let _ = write!(
            std::io::stderr(),
            "\r[{}{}] files {done}/{}  records {records}  {:.0} records/s  {:.1} MB read ",
            "#".repeat(filled),
            " ".repeat(width as usize - filled),
            self.files,
            records as f64 / seconds,
            self.bytes.load(Ordering::Relaxed) as f64 / 1e6,
        );
    }
}
