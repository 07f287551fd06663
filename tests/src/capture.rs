//! Capture of a child process's output (stdout and stderr, interleaved by line) into a buffer.
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A shared, bounded output buffer fed by reader threads.
#[derive(Clone)]
pub(crate) struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    open: Arc<AtomicUsize>,
    limit: usize,
}

impl Capture {
    /// A buffer that keeps at most about `limit` bytes (the newest).
    pub fn new(limit: usize) -> Capture {
        Capture { buf: Arc::new(Mutex::new(Vec::new())), open: Arc::new(AtomicUsize::new(0)), limit }
    }

    /// Reads `source` line by line on a thread until EOF, appending each line and passing it
    /// to `on_line`.
    pub fn follow<R, F>(&self, source: R, mut on_line: F)
    where
        R: Read + Send + 'static,
        F: FnMut(&str) + Send + 'static,
    {
        let me = self.clone();
        me.open.fetch_add(1, Ordering::SeqCst);
        thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if !line.ends_with(b"\n") {
                            line.push(b'\n');
                        }
                        me.append(&line);
                        on_line(String::from_utf8_lossy(&line).trim_end());
                    }
                }
            }
            me.open.fetch_sub(1, Ordering::SeqCst);
        });
    }

    fn append(&self, line: &[u8]) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        buf.extend_from_slice(line);
        if buf.len() > self.limit {
            let cut = buf.len() - self.limit / 2;
            let cut = buf[cut..].iter().position(|&b| b == b'\n').map_or(cut, |p| cut + p + 1);
            buf.drain(..cut);
            let marker = b"[vpcwarden-tests: earlier output dropped]\n";
            buf.splice(0..0, marker.iter().copied());
        }
    }

    /// Everything captured so far, as (lossy) UTF-8.
    pub fn text(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The text once the reader threads have caught up: a process writes a line before it
    /// answers, but the thread reading its pipe may not have run yet when the answer arrives.
    /// Settled means unchanged for `QUIET` (at most `SETTLE_MAX` in all).
    pub fn settled_text(&self) -> String {
        const QUIET: Duration = Duration::from_millis(30);
        const SETTLE_MAX: Duration = Duration::from_secs(1);
        let end = Instant::now() + SETTLE_MAX;
        let len = || self.buf.lock().unwrap_or_else(|e| e.into_inner()).len();
        let (mut seen, mut since) = (len(), Instant::now());
        while Instant::now() < end && since.elapsed() < QUIET {
            thread::sleep(Duration::from_millis(5));
            let now = len();
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
        }
        self.text()
    }

    /// Waits (bounded) until every followed stream has reached EOF, so the text is complete.
    pub fn wait_closed(&self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.open.load(Ordering::SeqCst) > 0 && Instant::now() < end {
            thread::sleep(Duration::from_millis(10));
        }
    }
}
