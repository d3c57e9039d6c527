//! An open-loop load generator: requests are sent on a fixed schedule, whatever the server
//! answers, and each latency is counted from the moment its request was *due* (as wrk2
//! does), so a server that stalls is charged for the requests waiting behind the stall.
//! wrk (closed loop) sends the next request only when the previous one is answered: at
//! saturation its p99 is the scheduler's queue, not the server's service. This reads the
//! tail at a given offered rate (`scripts/bench_latency.sh`).
//!
//! Each connection is one thread with a blocking keep-alive socket that sends every
//! `CONNECTIONS / RATE` seconds; the body is sent as is with `Content-Type:
//! application/json`. A connection that falls behind sends at once, so its latencies grow.
//!
//! `open_loop URL BODY_FILE RATE SECONDS CONNECTIONS`

#![allow(clippy::print_stdout, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Outcome {
    latencies: Vec<Duration>,
    failures: u64,
    first_failure: Option<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, body_file, rate, seconds, connections] = args.as_slice() else {
        eprintln!("usage: open_loop URL BODY_FILE RATE SECONDS CONNECTIONS");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE: requests per second");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let connections: usize = connections.parse().expect("CONNECTIONS");
    let (address, path) = split_url(url);
    let body = std::fs::read(body_file).expect("the body file");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);

    let every = Duration::from_secs_f64(connections as f64 / rate);
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..connections)
        .map(|i| {
            let request = request.clone();
            let address = address.clone();
            let offset = Duration::from_secs_f64(i as f64 / rate);
            std::thread::spawn(move || run(&address, &request, start + offset, every, end))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut first_failure = None;
    for thread in threads {
        let outcome = thread.join().expect("a connection thread");
        latencies.extend(outcome.latencies);
        failures += outcome.failures;
        first_failure = first_failure.or(outcome.first_failure);
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "offered {rate:.0} req/s for {seconds} s over {connections} connections: {} answered \
         ({:.0} req/s), {failures} failed; latency from when due: p50 {:.3} ms, p90 {:.3} ms, \
         p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        latencies.len(),
        latencies.len() as f64 / seconds,
        at(0.50),
        at(0.90),
        at(0.99),
        at(0.999),
        at(1.0),
    );
    if let Some(failure) = first_failure {
        println!("first failure: {failure}");
    }
}

/// `http://host:port/path` → ("host:port", "/path").
fn split_url(url: &str) -> (String, String) {
    let rest = url
        .strip_prefix("http://")
        .expect("an http:// URL (no TLS)");
    let (address, path) = rest.split_once('/').unwrap_or((rest, ""));
    (address.to_owned(), format!("/{path}"))
}

fn run(address: &str, request: &[u8], first: Instant, every: Duration, end: Instant) -> Outcome {
    let mut outcome = Outcome {
        latencies: Vec::new(),
        failures: 0,
        first_failure: None,
    };
    let fail = |outcome: &mut Outcome, why: String| {
        outcome.failures += 1;
        outcome.first_failure.get_or_insert(why);
    };
    let mut stream = match TcpStream::connect(address) {
        Ok(stream) => stream,
        Err(error) => {
            fail(
                &mut outcome,
                format!("cannot connect to {address}: {error}"),
            );
            return outcome;
        }
    };
    let _ = stream.set_nodelay(true);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut due = first;
    while due < end {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let answered = stream
            .write_all(request)
            .map_err(|e| e.to_string())
            .and_then(|()| read_response(&mut stream, &mut buffer));
        match answered {
            Ok(200) => outcome.latencies.push(due.elapsed()),
            Ok(status) => fail(&mut outcome, format!("status {status}")),
            Err(error) => {
                fail(&mut outcome, error);
                return outcome;
            }
        }
        due += every;
    }
    outcome
}

/// Reads one HTTP/1.1 response with a `Content-Length` body; returns its status.
fn read_response(stream: &mut TcpStream, buffer: &mut [u8]) -> Result<u16, String> {
    let mut filled = 0;
    let head_end = loop {
        filled = read_more(stream, buffer, filled)?;
        if let Some(end) = find(&buffer[..filled], b"\r\n\r\n") {
            break end;
        }
    };
    let head = std::str::from_utf8(&buffer[..head_end]).map_err(|e| e.to_string())?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .ok_or_else(|| "a response without Content-Length".to_owned())?;
    while filled < head_end + 4 + length {
        filled = read_more(stream, buffer, filled)?;
    }
    Ok(status)
}

/// Reads what the stream has after the `filled` bytes of `buffer`; returns the new fill.
fn read_more(stream: &mut TcpStream, buffer: &mut [u8], filled: usize) -> Result<usize, String> {
    if filled == buffer.len() {
        return Err("a response larger than 64 KiB".to_owned());
    }
    match stream.read(&mut buffer[filled..]) {
        Ok(0) => Err("the server closed the connection".to_owned()),
        Ok(n) => Ok(filled + n),
        Err(error) => Err(error.to_string()),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
