//! Idle polling: a runtime thread that runs out of work keeps its core for a short while,
//! watching its own event queue, before it goes to sleep in `epoll_wait`.
//!
//! Why: on a virtual machine whose idle vCPUs halt at once (no guest halt-polling, as on our
//! benchmark VM: `haltpoll.guest_halt_poll_ns=0`), waking a thread whose core is idle is a VM
//! exit and re-entry: ~30 us per wake-up there, against ~1 us between two threads on one core.
//! A pull, or a send waiting for a slave's ack, crosses cores several times per round trip, so
//! those wake-ups, not CPU, set the pace. Seastar's reactor (ScyllaDB, Redpanda) polls for
//! 200 us before it sleeps for the same reason. A thread that is still running when its next
//! event arrives needs no wake-up at all: the event only marks the epoll set ready.
//!
//! How: tokio calls the `on_thread_park` hook just before it sleeps. The hook `poll`s the
//! runtime's epoll descriptor (an epoll set is itself pollable: readable when any of its
//! descriptors is ready, and polling it consumes nothing) until something is ready or the spin
//! time is over; tokio's `epoll_wait` then returns at once, or sleeps as before. The spin runs
//! only after work and ends at the first event, so an idle process sleeps as before, and
//! events are never delayed. Each turn of the spin yields the core (`sched_yield`), so a thread
//! that is ready on the same core runs first. Measured on the benchmark VM
//! (docs/performance.md): a one-queue catch-up 350 k -> 657 k msg/s (1.08 M with a fixed
//! spin in every thread, which the test suite showed too greedy); sync sends, batch sends,
//! SYNC_FLUSH and an idle broker's CPU unchanged. Configured by `idlePollMicros` (broker, name server) and `mqbench --idle-poll-us`.
//!
//! The spin adapts as the kernel's halt-polling governor does ([`Window`]): only a thread whose
//! events come within the limit spins, and only while the machine has no more runnable threads
//! than cores ([`spare_core`]), since a spinning thread takes its share of a busy core.
//!
//! tokio does not expose its epoll descriptor. It is found once per thread: a marker eventfd
//! registered with the current runtime's reactor is looked for in the `tfd:` lines of
//! `/proc/self/fdinfo` of every eventpoll descriptor. If that fails (no /proc, another
//! reactor), the hook does nothing.

use std::cell::Cell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

thread_local! {
    /// This thread's runtime epoll descriptor: `None` not looked for yet, `Some(-1)` not found.
    static EPOLL_FD: Cell<Option<RawFd>> = const { Cell::new(None) };
    /// This thread's spin window.
    static WINDOW: Cell<Window> = const { Cell::new(Window::CLOSED) };
    /// When this thread went to sleep after a spin that saw no event.
    static ASLEEP_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How long a thread spins before it sleeps, adapted to how soon its events come, as the
/// kernel's guest halt-polling governor does: a thread whose sleeps end within `max` (its
/// events come often: a pull loop, a stream of sends) doubles its window up to `max`; a sleep
/// longer than `max` (heartbeats, timers, an idle connection) halves it, down to nothing. So
/// only threads in a fast exchange spin, and a process with many mostly idle threads (a name
/// server, a controller, a broker with few clients) spends next to nothing on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The spin of the next park.
    pub limit: Duration,
}

impl Window {
    const CLOSED: Window = Window {
        limit: Duration::ZERO,
    };

    /// The first window after a short sleep: a quarter of `max`.
    fn grow_start(max: Duration) -> Duration {
        max / 4
    }

    /// After a sleep of `slept` (one that followed a spin without an event, or no spin).
    pub fn after_sleep(self, slept: Duration, max: Duration) -> Window {
        let limit = if slept > max {
            let half = self.limit / 2;
            if half < Self::grow_start(max) / 2 {
                Duration::ZERO
            } else {
                half
            }
        } else if self.limit < max {
            (self.limit * 2).max(Self::grow_start(max)).min(max)
        } else {
            self.limit
        };
        Window { limit }
    }
}

/// A current-thread runtime builder (all drivers enabled) whose thread spins up to `max` for
/// an event before it sleeps (`Duration::ZERO`: never).
pub fn current_thread(max: Duration) -> tokio::runtime::Builder {
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.enable_all();
    install(&mut b, max);
    b
}

/// An actix system (the process's main arbiter) whose thread spins before it sleeps.
pub fn system(max: Duration) -> actix_rt::SystemRunner {
    actix_rt::System::with_tokio_rt(move || current_thread(max).build().expect("tokio runtime"))
}

/// An actix arbiter whose thread spins before it sleeps.
pub fn arbiter(max: Duration) -> actix_rt::Arbiter {
    actix_rt::Arbiter::with_tokio_rt(move || current_thread(max).build().expect("tokio runtime"))
}

/// Add the spin-before-sleep hooks to `b` (nothing for `Duration::ZERO`).
pub fn install(b: &mut tokio::runtime::Builder, max: Duration) {
    if !max.is_zero() {
        b.on_thread_park(move || before_sleep(max));
        b.on_thread_unpark(move || after_wake(max));
    }
}

/// The park hook: spin for an event up to the thread's window; note when the thread sleeps.
fn before_sleep(max: Duration) {
    let limit = WINDOW.with(|w| w.get().limit);
    let caught = !limit.is_zero() && spare_core() && spin_for_event(limit.min(max));
    ASLEEP_SINCE.with(|a| a.set((!caught).then(Instant::now)));
}

thread_local! {
    /// The last answer of [`spare_core`] and when it was read.
    static SPARE: Cell<Option<(Instant, bool)>> = const { Cell::new(None) };
}

/// How long an answer of [`spare_core`] is reused.
const SPARE_CHECK_EVERY: Duration = Duration::from_millis(2);

/// Whether the machine has a core nobody else wants: the kernel's count of runnable threads
/// (`/proc/loadavg`, this one included) is at most the number of cores. A spinning thread is
/// runnable and takes its share of a busy core (yielding does not lower its share), so on a
/// machine with more ready threads than cores (many processes; a test suite) it would slow
/// the others down: there it sleeps at once. Spinning threads count too, which caps them at
/// about one per core. Read at most every [`SPARE_CHECK_EVERY`]; without /proc: no spin.
fn spare_core() -> bool {
    let now = Instant::now();
    if let Some((at, spare)) = SPARE.with(|s| s.get()) {
        if now.duration_since(at) < SPARE_CHECK_EVERY {
            return spare;
        }
    }
    let spare = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| runnable_threads(&l))
        .is_some_and(|n| n <= cores());
    SPARE.with(|s| s.set(Some((now, spare))));
    spare
}

fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The runnable-thread count of a `/proc/loadavg` line (`0.20 1.18 1.52 2/345 12345`: 2).
fn runnable_threads(loadavg: &str) -> Option<usize> {
    loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// The unpark hook: adapt the window to how long the thread slept.
fn after_wake(max: Duration) {
    if let Some(since) = ASLEEP_SINCE.with(|a| a.take()) {
        WINDOW.with(|w| w.set(w.get().after_sleep(since.elapsed(), max)));
    }
}

/// Wait up to `spin` for the runtime's epoll set to have a ready descriptor; whether it did.
fn spin_for_event(spin: Duration) -> bool {
    let fd = EPOLL_FD.with(|c| match c.get() {
        Some(fd) => fd,
        None => {
            let fd = find_runtime_epoll().unwrap_or(-1);
            c.set(Some(fd));
            fd
        }
    });
    if fd < 0 {
        return false;
    }
    let deadline = Instant::now() + spin;
    loop {
        if ready(fd) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        // Let whatever else is ready on this core run first (returns at once if nothing is).
        // SAFETY: no arguments.
        unsafe { libc::sched_yield() };
    }
}

/// Whether epoll set `fd` has a ready descriptor (a zero-timeout `poll`: consumes nothing).
fn ready(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) != 0 }
}

/// The epoll descriptor of the runtime this thread runs: register a marker eventfd with the
/// reactor and find the eventpoll descriptor that lists it.
fn find_runtime_epoll() -> Option<RawFd> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let _entered = handle.enter();
    // SAFETY: eventfd returns a new descriptor (or -1, checked) that we own.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor owned by nothing else.
    let marker = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: the AsyncFd owns the descriptor, so it stays open while registered.
    let registered = unsafe { tokio::io::unix::AsyncFd::register(marker) }.ok()?;
    let n = registered.as_raw_fd();
    let listing = epolls_listing(n)?;
    // Another epoll set may still list a descriptor once registered under the same number (a
    // registered descriptor that was duplicated and then closed): ours is the one whose entry
    // goes when the marker does. (mio holds two descriptors of its set, a duplicate for the
    // registry: either will do.)
    drop(registered);
    listing
        .into_iter()
        .find(|&fd| !fdinfo(fd).is_some_and(|i| watches(&i, n)))
}

fn fdinfo(fd: RawFd) -> Option<String> {
    std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()
}

/// The eventpoll descriptors of this process whose watch lists hold `target`.
fn epolls_listing(target: RawFd) -> Option<Vec<RawFd>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<RawFd>().ok())
        else {
            continue;
        };
        let is_epoll = std::fs::read_link(entry.path())
            .map(|l| l.to_string_lossy() == "anon_inode:[eventpoll]")
            .unwrap_or(false);
        if !is_epoll {
            continue;
        }
        if fdinfo(fd).is_some_and(|i| watches(&i, target)) {
            found.push(fd);
        }
    }
    Some(found)
}

/// Whether an eventpoll fdinfo text (`tfd:        7 events: ...` per watched descriptor)
/// lists `target`.
fn watches(fdinfo: &str, target: RawFd) -> bool {
    fdinfo.lines().any(|l| {
        let mut w = l.split_whitespace();
        w.next() == Some("tfd:") && w.next().and_then(|t| t.parse::<RawFd>().ok()) == Some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_list_is_read_from_fdinfo() {
        let info = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n\
                    tfd:        5 events:       19 data:                0  pos:0 ino:405 sdev:f\n\
                    tfd:       12 events: 80000019 data:      7f00000001  pos:0 ino:40a sdev:8\n";
        assert!(watches(info, 5));
        assert!(watches(info, 12));
        assert!(!watches(info, 1));
        assert!(!watches("pos:\t0\n", 5));
    }

    #[test]
    fn the_hook_finds_its_runtimes_epoll_set_and_returns_on_an_event() {
        let rt = current_thread(Duration::from_millis(50)).build().unwrap();
        rt.block_on(async {
            let fd = find_runtime_epoll().expect("the runtime's epoll descriptor");
            // Nothing ready: the spin runs to its end.
            let (a, b) = tokio::net::UnixStream::pair().unwrap();
            // The new sockets' first (writable) edges make the set ready until the driver
            // takes them: let it run once.
            tokio::time::sleep(Duration::from_millis(5)).await;
            let t = Instant::now();
            assert!(!spin_for_event(Duration::from_millis(20)));
            assert!(t.elapsed() >= Duration::from_millis(20));
            // A readable registered socket makes the set ready: the spin returns at once.
            b.try_write(b"x").unwrap();
            let t = Instant::now();
            assert!(ready(fd));
            assert!(spin_for_event(Duration::from_secs(5)));
            assert!(t.elapsed() < Duration::from_secs(1));
            drop(a);
        });
    }

    #[test]
    fn each_runtime_thread_finds_its_own_epoll_set() {
        let find = || {
            std::thread::spawn(|| {
                let rt = current_thread(Duration::from_micros(50)).build().unwrap();
                let fd = rt.block_on(async { find_runtime_epoll() });
                (fd, rt)
            })
        };
        let (a, b) = (find(), find());
        let ((fa, _ra), (fb, _rb)) = (a.join().unwrap(), b.join().unwrap());
        let (fa, fb) = (fa.expect("first set"), fb.expect("second set"));
        // kcmp(KCMP_FILE): 0 when both descriptors are the same open file (one epoll set).
        let pid = std::process::id() as libc::c_long;
        // SAFETY: kcmp only compares two descriptors of this process.
        let same = unsafe { libc::syscall(libc::SYS_kcmp, pid, pid, 0, fa, fb) };
        assert!(
            same == 1 || same == 2,
            "kcmp says {same}: not two epoll sets"
        );
    }

    #[test]
    fn runnable_threads_come_from_loadavg() {
        assert_eq!(runnable_threads("0.20 1.18 1.52 2/345 12345\n"), Some(2));
        assert_eq!(runnable_threads("4.71 6.32 4.88 11/78 4107"), Some(11));
        assert_eq!(runnable_threads("garbage"), None);
        assert_eq!(runnable_threads(""), None);
    }

    #[test]
    fn the_window_opens_for_frequent_events_and_closes_for_rare_ones() {
        let max = Duration::from_micros(50);
        let mut w = Window::CLOSED;
        let mut seen = Vec::new();
        for _ in 0..4 {
            w = w.after_sleep(Duration::from_micros(20), max);
            seen.push(w.limit.as_nanos());
        }
        assert_eq!(seen, [12_500, 25_000, 50_000, 50_000]);
        // Long sleeps (timers, idle connections) halve it until it is gone.
        let mut closed_after = 0;
        while !w.limit.is_zero() {
            w = w.after_sleep(Duration::from_millis(100), max);
            closed_after += 1;
            assert!(closed_after <= 4, "{w:?}");
        }
        assert_eq!(w.after_sleep(Duration::from_secs(1), max), Window::CLOSED);
    }
}
