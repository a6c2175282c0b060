//! leaky-rust: the Rust twin of examples/leaky-service, for leakscope's tests and demo. An HTTP/1.1
//! service that leaks memory, threads and descriptors the way Rust services really do (safe
//! Rust never frees what is still reachable, and `std::mem::forget` or a detached thread is one
//! line away), each pattern beside its fix:
//!
//!   GET /<pattern>           the leak          GET /<pattern>?fixed=1   the fix
//!   /append-slice /request-context /hanging-thread /open-file
//!   /steady-cache            the control: an LRU cache that fills, then stays flat (?key=N)
//!
//! Standard library only, edition 2021, nothing newer than Rust 1.63: Debian 12's `rustc` builds it
//! offline (CMake calls rustc directly; there is no Cargo.toml and no crate to download).
//!
//! Every leak is made inside one function marked `#[inline(never)]` whose symbol leakscope
//! prints, once demangled, as `leaky_rust::<module>::<function>`: those names are listed in
//! examples/ground_truth.json ("rust"). Shared helpers are `#[inline(always)]`, so that the
//! pattern's own function stays the innermost frame of this crate on each stack, and the pattern
//! functions return a computed value after their last allocating call, so that call is never a
//! tail call (which would drop their frame from the unwound stack).
//!
//! Start-up order matters for the watchers: the fixed variant's thread pool exists before the
//! port is announced, so an idle baseline already holds it. The announcement is the line
//! "listening on HOST:PORT" on stdout. Each connection serves one request (`Connection: close`)
//! on one of a fixed set of worker threads made at start-up, so that serving never creates
//! threads or keeps descriptors of its own.

mod fds;
mod heap;
mod http;
mod threads;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// What a pattern returns when its safety cap stopped the leak (HTTP 503).
pub const CAP_REACHED: i64 = -1;
/// What a pattern returns when it failed, e.g. could not open a file (HTTP 502).
pub const FAILED: i64 = -2;

const USAGE: &str = "usage: leaky-rust [--host ADDR] [--port N] [--workers N] [--port-file PATH]";
const INDEX: &str = "leaky-rust: GET /append-slice /request-context /hanging-thread /open-file \
                     (add ?fixed=1 for the fix), /steady-cache\n";

struct Options {
    host: String,
    port: u16,
    workers: usize,
    port_file: Option<String>,
}

/// Request ids: one per pattern request, never reused.
static REQUEST_IDS: AtomicI64 = AtomicI64::new(0);
/// Without ?key=N the steady cache's keys cycle through 4x its capacity.
static CACHE_KEYS: AtomicI64 = AtomicI64::new(0);

/// Locks `m`, ignoring poisoning: a panic in one request must not take the service down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        host: "127.0.0.1".into(),
        port: 0,
        workers: 8,
        port_file: None,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value")),
        };
        let number = |what: &str| format!("{flag}: {what} expected, got '{value}'");
        match flag.as_str() {
            "--host" => o.host = value.clone(),
            "--port" => o.port = value.parse().map_err(|_| number("a port"))?,
            "--workers" => match value.parse() {
                Ok(n) if (1..=256).contains(&n) => o.workers = n,
                _ => return Err(number("1 to 256")),
            },
            "--port-file" => o.port_file = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(o)
}

/// Prints the announcement, and writes the port file atomically (readers never see half of it).
fn announce(o: &Options, port: u16) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    writeln!(out, "listening on {}:{port}", o.host)?;
    out.flush()?;
    if let Some(path) = &o.port_file {
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, format!("{port}\n"))?;
        std::fs::rename(&tmp, path)?;
    }
    Ok(())
}

/// Runs the pattern a request names: its variant ("leak", "fixed", "control") and what it holds
/// afterwards, or None for a path that is no pattern.
fn run_pattern(req: &http::Request) -> Option<(&'static str, i64)> {
    let fixed = req.param("fixed") == Some("1");
    let id = || REQUEST_IDS.fetch_add(1, Ordering::Relaxed) + 1;
    let held = match (req.path.as_str(), fixed) {
        ("/append-slice", false) => heap::leak_append_slice(id()),
        ("/append-slice", true) => heap::fixed_append_slice(id()),
        ("/request-context", false) => heap::leak_request_context(id(), &req.target),
        ("/request-context", true) => heap::fixed_request_context(id(), &req.target),
        ("/hanging-thread", false) => threads::leak_hanging_thread(),
        ("/hanging-thread", true) => threads::fixed_hanging_thread(),
        ("/open-file", false) => fds::leak_open_file(),
        ("/open-file", true) => fds::fixed_open_file(),
        ("/steady-cache", _) => {
            let key = match req.param("key").and_then(|k| k.parse().ok()) {
                Some(k) => k,
                None => CACHE_KEYS.fetch_add(1, Ordering::Relaxed) % 4096,
            };
            return Some(("control", heap::steady_cache_lookup(key)));
        }
        _ => return None,
    };
    Some((if fixed { "fixed" } else { "leak" }, held))
}

fn respond(req: &http::Request) -> (u16, String) {
    match run_pattern(req) {
        Some((variant, CAP_REACHED)) => (
            503,
            format!(
                "{} {variant}: safety cap reached, not leaking more\n",
                req.path
            ),
        ),
        Some((variant, FAILED)) => (502, format!("{} {variant}: failed\n", req.path)),
        Some((variant, held)) => (200, format!("{} {variant}: holds {held}\n", req.path)),
        None if req.path == "/" => (200, INDEX.to_string()),
        None => (404, format!("no such pattern: {}\n", req.path)),
    }
}

fn serve_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let (status, body) = match http::read_request(&stream) {
        Ok(Some(req)) if req.method == "GET" => respond(&req),
        Ok(Some(_)) => (405, "GET only\n".to_string()),
        Ok(None) => return, // the client closed without a request
        Err(e) => (400, format!("bad request: {e}\n")),
    };
    let _ = http::write_response(&stream, status, &body);
}

fn serve(listener: TcpListener) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => serve_connection(stream),
            Err(e) => {
                eprintln!("leaky-rust: accept: {e}");
                thread::sleep(Duration::from_millis(10)); // e.g. EMFILE: do not spin
            }
        }
    }
}

fn run(o: Options) -> Result<(), String> {
    fds::raise_fd_limit();
    threads::start_fixed_pool().map_err(|e| format!("thread pool: {e}"))?;
    let listener = TcpListener::bind((o.host.as_str(), o.port))
        .map_err(|e| format!("cannot bind {}:{}: {e}", o.host, o.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    for _ in 1..o.workers {
        let worker = listener.try_clone().map_err(|e| e.to_string())?;
        thread::Builder::new()
            .name("worker".into())
            .spawn(move || serve(worker))
            .map_err(|e| format!("worker thread: {e}"))?;
    }
    announce(&o, port).map_err(|e| format!("announce: {e}"))?;
    serve(listener);
    Ok(())
}

fn main() {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("leaky-rust: error: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(options) {
        eprintln!("leaky-rust: error: {e}");
        std::process::exit(1);
    }
}
