//! Descriptor patterns: files opened per request and never closed.
//!
//!   open-file  reads 8 random bytes for a request id from /dev/urandom, then
//!              `std::mem::forget`s the File: its Drop (close(2)) never runs, so the descriptor
//!              stays open for the life of the process. Fix: let the File drop.
//!
//! Also raise_fd_limit(): descriptor leaks need room, so the soft limit on open files goes up to
//! the hard one (std has no call for it; getrlimit and setrlimit come from the libc that std
//! links anyway).

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::{CAP_REACHED, FAILED};

/// Safety cap: leaked descriptors for the life of the process.
pub const CAP_FDS: i64 = 6000;

const RANDOM_PATH: &str = "/dev/urandom";

static LEAKED_FILES: AtomicI64 = AtomicI64::new(0);

#[inline(never)]
pub fn leak_open_file() -> i64 {
    if LEAKED_FILES.load(Ordering::SeqCst) >= CAP_FDS {
        return CAP_REACHED;
    }
    let mut file = match File::open(RANDOM_PATH) {
        Ok(file) => file,
        Err(_) => return FAILED,
    };
    let mut request_id = [0u8; 8];
    if file.read_exact(&mut request_id).is_err() {
        return FAILED; // (this path does close it: `file` drops)
    }
    std::mem::forget(file); // no Drop, no close(2)
    LEAKED_FILES.fetch_add(1, Ordering::SeqCst) + 1
}

#[inline(never)]
pub fn fixed_open_file() -> i64 {
    let mut file = match File::open(RANDOM_PATH) {
        Ok(file) => file,
        Err(_) => return FAILED,
    };
    let mut request_id = [0u8; 8];
    let ok = file.read_exact(&mut request_id).is_ok();
    drop(file); // closed on every path
    if ok {
        0
    } else {
        FAILED
    }
}

/// struct rlimit on Linux (rlim_t is 64 bits on every Linux target std supports here).
#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

const RLIMIT_NOFILE: i32 = 7;

extern "C" {
    fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
    fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
}

/// Raises the soft limit on open files to the hard limit; failures are ignored (the caps and
/// the 502 answer still hold).
pub fn raise_fd_limit() {
    let mut lim = RLimit { cur: 0, max: 0 };
    // SAFETY: lim is a valid struct rlimit for the duration of both calls.
    unsafe {
        if getrlimit(RLIMIT_NOFILE, &mut lim) == 0 && lim.cur < lim.max {
            lim.cur = lim.max;
            setrlimit(RLIMIT_NOFILE, &lim);
        }
    }
}
