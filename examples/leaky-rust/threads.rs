//! Thread patterns: threads parked forever on something that never comes.
//!
//!   hanging-thread  each request spawns a thread that parks until an unpark nobody will ever
//!                   send, and drops its JoinHandle (detaching it). Fix: POOL_THREADS threads made
//!                   at start-up behind a bounded queue (sync_channel); each job waits at most
//!                   JOB_DEADLINE and answers on its own channel.
//!
//! Threads get SMALL_STACK stacks (the default 2 MiB would reserve 12 GiB of address space at the
//! cap). Each thread is spawned from the pattern's own `#[inline(never)]` function, so its
//! creation stack (pthread_create, under std::thread::Builder::spawn) ends in the pattern.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::{lock, CAP_REACHED, FAILED};

/// Safety cap: hung threads for the life of the process.
pub const CAP_THREADS: i64 = 6000;

const SMALL_STACK: usize = 64 * 1024;
const POOL_THREADS: usize = 4;
const POOL_QUEUE: usize = 64;
const JOB_DEADLINE: Duration = Duration::from_millis(2);

static HUNG_THREADS: AtomicI64 = AtomicI64::new(0);

/// A job for the pool: the channel its worker answers on once the job is done.
type Job = SyncSender<()>;

/// The fixed variant's queue into the pool; None until start_fixed_pool().
static POOL_QUEUE_TX: Mutex<Option<SyncSender<Job>>> = Mutex::new(None);

/// Waits for an event that never comes: park() returns on spurious wakeups too, hence the loop.
#[inline(never)]
fn hanging_thread_main() {
    loop {
        thread::park();
    }
}

#[inline(never)]
pub fn leak_hanging_thread() -> i64 {
    if HUNG_THREADS.fetch_add(1, Ordering::SeqCst) >= CAP_THREADS {
        HUNG_THREADS.fetch_sub(1, Ordering::SeqCst);
        return CAP_REACHED;
    }
    let spawned = thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(hanging_thread_main);
    match spawned {
        Ok(handle) => drop(handle), // detached: nobody will ever join or unpark it
        Err(_) => {
            HUNG_THREADS.fetch_sub(1, Ordering::SeqCst);
            return FAILED;
        }
    }
    HUNG_THREADS.load(Ordering::SeqCst)
}

/// A pool worker: takes jobs one at a time, waits for each job's event at most JOB_DEADLINE.
#[inline(never)]
fn pool_worker_main(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match lock(jobs).recv() {
            Ok(job) => job,
            Err(_) => return, // the queue is gone
        };
        thread::sleep(JOB_DEADLINE);
        let _ = job.send(());
    }
}

/// Makes the fixed variant's pool: called once, before the port is announced.
pub fn start_fixed_pool() -> std::io::Result<()> {
    let (tx, rx) = sync_channel::<Job>(POOL_QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..POOL_THREADS {
        let rx = Arc::clone(&rx);
        thread::Builder::new()
            .name("pool".into())
            .stack_size(SMALL_STACK)
            .spawn(move || pool_worker_main(&rx))?;
    }
    *lock(&POOL_QUEUE_TX) = Some(tx);
    Ok(())
}

#[inline(never)]
pub fn fixed_hanging_thread() -> i64 {
    let queue = match lock(&POOL_QUEUE_TX).clone() {
        Some(queue) => queue,
        None => return FAILED,
    };
    let (done_tx, done_rx) = sync_channel(1);
    // send() blocks while the queue is full: backpressure, not a new thread.
    if queue.send(done_tx).is_err() || done_rx.recv().is_err() {
        return FAILED;
    }
    POOL_THREADS as i64
}
