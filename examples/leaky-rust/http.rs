//! Just enough HTTP/1.1 for the demo: one GET per connection, answered with `Connection: close`.
//! The request line and headers are read through a bounded reader (MAX_HEAD bytes), so a client
//! cannot make the service buffer without end; the headers themselves are skipped (the patterns
//! only need the path and the query). A load generator that keeps connections alive (wrk) sees
//! the close and reconnects.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The most bytes of request line and headers read from one connection.
const MAX_HEAD: u64 = 16 * 1024;

pub struct Request {
    pub method: String,
    /// The raw target, path and query: "/request-context?id=7".
    pub target: String,
    /// The target's path: "/request-context".
    pub path: String,
    query: String,
}

impl Request {
    /// The value of query parameter `name` ("" for a bare `name`), or None.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == name {
                Some(value)
            } else {
                None
            }
        })
    }
}

/// Reads one request's head. Ok(None): the client closed before sending anything.
pub fn read_request(stream: &TcpStream) -> io::Result<Option<Request>> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD));
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, target) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v)) if v.starts_with("HTTP/1.") => (m.to_string(), t.to_string()),
        _ => return Err(invalid(format!("request line {:?}", line.trim_end()))),
    };
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Err(invalid("headers cut short".to_string()));
        }
        if header == "\r\n" || header == "\n" {
            break;
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    Ok(Some(Request {
        method,
        target,
        path,
        query,
    }))
}

/// Writes a whole plain-text response in one call.
pub fn write_response(mut stream: &TcpStream, status: u16, body: &str) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
