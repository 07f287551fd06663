//! Measuring a child process the way the benchmarks compare programs: wall time from spawn to
//! exit and peak RSS (`ru_maxrss` from `wait4`, the kernel's own high-water mark for that child),
//! with its output kept in files.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished run.
#[derive(Clone, Debug)]
pub struct Run {
    pub wall: Duration,
    pub peak_rss_kb: u64,
    /// CPU time (user + system) of the child: its own processing, apart from waiting.
    pub cpu: Duration,
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `command` to completion, its stdout and stderr written to `<out>.stdout` / `<out>.stderr`.
pub fn run(command: &mut Command, out: &Path) -> Run {
    let (stdout_path, stderr_path) = (out.with_extension("stdout"), out.with_extension("stderr"));
    let file = |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(file(&stdout_path))
        .stderr(file(&stderr_path))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    // Reaped here with wait4 (not Child::wait) to read the child's own rusage.
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped; both pointers are valid for the call.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(reaped, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    drop(child);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let seconds = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Run {
        wall,
        peak_rss_kb: usage.ru_maxrss as u64,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        code,
        stdout: read(&stdout_path),
        stderr: read(&stderr_path),
    }
}

/// The median of a non-empty list.
pub fn median<T: Clone + PartialOrd>(values: &[T]) -> T {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2].clone()
}
