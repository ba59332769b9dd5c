//! The threads that serve stream connections, one pool per httpd
//! child process, as mod_http2's `h2_workers`.
//!
//! * Threads start on demand, up to the child's limit (`SCTPStreamWorkers`,
//!   by default the MPM's `ThreadsPerChild`); a job that finds every thread
//!   busy waits in first-come order: nothing is dropped.
//! * A thread idle for [`IDLE_EXIT`] ends, so an idle child holds no
//!   stream threads.
//! * At the end of the child (a cleanup of its pool) no new job starts and
//!   the pool waits a bounded time for running jobs: each association
//!   connection waits for its streams before it ends, so by then normally
//!   nothing runs.
//!
//! The threads are mod_sctp's own: not in httpd's scoreboard, not counted
//! by `MaxRequestWorkers` (docs/directives.md says so with the arithmetic).
//! std's threads, mutex and condition variable do all of it: no crate in
//! the workspace offers a bounded, lazily grown pool with a FIFO backlog
//! and a bounded join.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// A thread with nothing to do for this long ends.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

/// The longest the end of a child waits for running jobs.
const STOP_WAIT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// Jobs running.
    running: usize,
    max: usize,
    stopping: bool,
}

/// A pool of threads for jobs.
pub struct Workers {
    state: Mutex<State>,
    /// A job was queued, or the pool stops.
    work: Condvar,
    /// A thread ended or a job finished (for `stop`).
    done: Condvar,
}

/// What the pool looks like (status page, logs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    pub threads: usize,
    pub running: usize,
    pub queued: usize,
    pub max: usize,
}

impl Workers {
    pub fn new(max: usize) -> Workers {
        Workers {
            state: Mutex::new(State {
                max: max.max(1),
                ..State::default()
            }),
            work: Condvar::new(),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `job` on a pool thread, now or when one is free. False when the
    /// pool is stopping or no thread can be started (the job is dropped
    /// unrun: its owner must treat that as the job's end).
    pub fn submit(&'static self, job: Job) -> bool {
        let mut st = self.lock();
        let (queued, wake) = self.submit_locked(&mut st, job);
        drop(st);
        // Woken after the lock is released: a woken thread that ran at once
        // would only block on the lock (two more system calls a job).
        if wake {
            self.work.notify_one();
        }
        queued
    }

    /// [`Workers::submit`] under the pool's lock: (queued, an idle thread
    /// must be woken). An idle thread takes one queued job; a thread is
    /// started whenever the jobs queued outnumber the idle threads.
    /// (Counting only "some thread is idle" lost jobs: several submitted
    /// before the one woken thread took the lock all counted on it, and
    /// waited behind its job for as long as that ran.)
    fn submit_locked(&'static self, st: &mut State, job: Job) -> (bool, bool) {
        if st.stopping {
            return (false, false);
        }
        st.jobs.push_back(job);
        let wake = st.idle > 0;
        if st.jobs.len() > st.idle && st.threads < st.max {
            st.threads += 1;
            let spawned = std::thread::Builder::new()
                .name("sctp-stream".into())
                .spawn(move || self.run());
            if spawned.is_err() {
                st.threads -= 1;
                if st.threads == 0 {
                    // Nobody would ever run it.
                    st.jobs.pop_back();
                    return (false, false);
                }
            }
        }
        (true, wake)
    }

    fn run(&self) {
        let mut st = self.lock();
        loop {
            if let Some(job) = st.jobs.pop_front() {
                st.running += 1;
                drop(st);
                // A panic fails this job alone (its owner sees the job end
                // through its own guard); the thread serves on.
                let _ = catch_unwind(AssertUnwindSafe(job));
                st = self.lock();
                st.running -= 1;
                if st.stopping {
                    // Only `stop` waits on `done` (a notification is a
                    // system call even with nobody waiting).
                    self.done.notify_all();
                }
                continue;
            }
            if st.stopping {
                break;
            }
            st.idle += 1;
            let (g, t) = self
                .work
                .wait_timeout(st, IDLE_EXIT)
                .unwrap_or_else(|p| p.into_inner());
            st = g;
            st.idle -= 1;
            if t.timed_out() && st.jobs.is_empty() {
                break;
            }
        }
        st.threads -= 1;
        self.done.notify_all();
    }

    pub fn load(&self) -> Load {
        let st = self.lock();
        Load {
            threads: st.threads,
            running: st.running,
            queued: st.jobs.len(),
            max: st.max,
        }
    }

    /// The end of the child: no new job starts, queued ones are dropped,
    /// and this waits (at most [`STOP_WAIT`]) for running jobs and threads.
    /// Returns what was still running when the wait ended.
    pub fn stop(&self) -> usize {
        let mut st = self.lock();
        st.stopping = true;
        st.jobs.clear();
        self.work.notify_all();
        let until = Instant::now() + STOP_WAIT;
        while st.threads > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        st.running
    }
}

static POOL: OnceLock<Workers> = OnceLock::new();

/// The child's pool, created with `max` threads at its first use.
pub fn pool(max: usize) -> &'static Workers {
    POOL.get_or_init(|| Workers::new(max))
}

/// The child's pool if one was created.
pub fn existing() -> Option<&'static Workers> {
    POOL.get()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn leak(w: Workers) -> &'static Workers {
        Box::leak(Box::new(w))
    }

    #[test]
    fn runs_every_job_with_at_most_max_threads() {
        let w = leak(Workers::new(3));
        let done = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let (done, peak, now) = (done.clone(), peak.clone(), now.clone());
            assert!(w.submit(Box::new(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                now.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
            })));
        }
        let t0 = Instant::now();
        while done.load(Ordering::SeqCst) < 20 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(done.load(Ordering::SeqCst), 20, "every job ran");
        assert!(
            peak.load(Ordering::SeqCst) <= 3,
            "never more than max at once"
        );
        assert!(w.load().threads <= 3);
    }

    /// Jobs submitted back to back while one thread is idle (the woken
    /// thread has not taken the lock yet) each get a thread: none waits
    /// behind a long job while the pool may grow.
    #[test]
    fn jobs_submitted_together_do_not_share_one_idle_thread() {
        let w = leak(Workers::new(8));
        // One thread, idle.
        let (tx, rx) = std::sync::mpsc::channel();
        w.submit(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let t0 = Instant::now();
        while w.lock().idle == 0 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(w.lock().idle, 1);
        // A long job and seven short ones, all queued under one hold of
        // the lock: the long one waits for the short ones.
        let short_done = Arc::new(AtomicUsize::new(0));
        let (long_tx, long_rx) = std::sync::mpsc::channel();
        let mut wakes = 0;
        {
            let mut st = w.lock();
            let d = short_done.clone();
            let (queued, wake) = w.submit_locked(
                &mut st,
                Box::new(move || {
                    let t0 = Instant::now();
                    while d.load(Ordering::SeqCst) < 7 && t0.elapsed() < Duration::from_secs(5) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    long_tx.send(d.load(Ordering::SeqCst)).unwrap();
                }),
            );
            assert!(queued);
            wakes += usize::from(wake);
            for _ in 0..7 {
                let d = short_done.clone();
                let (queued, wake) = w.submit_locked(
                    &mut st,
                    Box::new(move || {
                        d.fetch_add(1, Ordering::SeqCst);
                    }),
                );
                assert!(queued);
                wakes += usize::from(wake);
            }
        }
        // As `submit` does, after the lock.
        for _ in 0..wakes {
            w.work.notify_one();
        }
        let seen = long_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            seen, 7,
            "the short jobs ran while the long one waited for them"
        );
    }

    #[test]
    fn jobs_beyond_the_limit_wait_in_order() {
        let w = leak(Workers::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        for i in 0..5 {
            let order = order.clone();
            w.submit(Box::new(move || order.lock().unwrap().push(i)));
        }
        let t0 = Instant::now();
        while order.lock().unwrap().len() < 5 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_panicking_job_fails_alone() {
        let w = leak(Workers::new(1));
        let ran = Arc::new(AtomicUsize::new(0));
        w.submit(Box::new(|| panic!("job bug")));
        let r = ran.clone();
        w.submit(Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        let t0 = Instant::now();
        while ran.load(Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn stop_waits_for_running_jobs_and_refuses_new_ones() {
        let w = leak(Workers::new(2));
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        w.submit(Box::new(move || {
            std::thread::sleep(Duration::from_millis(100));
            d.fetch_add(1, Ordering::SeqCst);
        }));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(w.stop(), 0, "nothing left running");
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "the running job finished first"
        );
        assert!(!w.submit(Box::new(|| {})), "no job after stop");
        assert_eq!(w.load().threads, 0);
    }
}
