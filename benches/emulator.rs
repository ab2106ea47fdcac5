//! Throughput of the emulator for `ListDistributedGrants` pages of 100 grants, on loopback.
//!
//! `cargo bench --bench emulator` (options: `-- --requests N --seconds S --connections C`).
//! Two load generators, each bounded in request count and in time:
//! - raw HTTP/1.1 keep-alive connections (measures the emulator, not a client);
//! - the real `aws-sdk-licensemanager` client (what the tool sees, client parsing included).
//!
//! The figure goes into docs/benchmarks.md ("## Emulator").

#[path = "common/fixtures.rs"]
mod fixtures;

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use bedrock_entitlements::emulator::{EmulatorOptions, Seed, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811";

struct Args {
    requests: u64,
    seconds: u64,
    connections: usize,
}

fn args() -> Args {
    let mut a = Args {
        requests: 100_000,
        seconds: 10,
        connections: 8,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (argv[i].as_str(), value) {
            ("--requests", Some(v)) => a.requests = v,
            ("--seconds", Some(v)) => a.seconds = v,
            ("--connections", Some(v)) => a.connections = v as usize,
            _ => {} // `--bench` and friends from cargo
        }
        i += 1;
    }
    a
}

/// The sandbox organization with 1,000 more accounts, each holding one grant: 10 full pages.
fn seed() -> Seed {
    let mut seed = Seed::from_yaml(include_str!("../examples/sandbox.yaml")).expect("valid seed");
    for i in 0..1_000u64 {
        let id = format!("{:012}", 900_000_000_000 + i);
        seed.organization
            .accounts
            .push(fixtures::account(id.clone(), format!("bulk-{i}")));
        seed.grants
            .push(fixtures::account_grant(&id, LICENSE, "ACTIVE"));
    }
    seed
}

fn request(addr: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSLicenseManager.ListDistributedGrants\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20250101/us-east-1/license-manager/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one HTTP response off a keep-alive connection; returns the status and body length.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, usize)> {
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).unwrap_or("");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..head_end + len);
    Ok((status, len))
}

struct Outcome {
    requests: u64,
    bytes: u64,
    elapsed: Duration,
}

impl Outcome {
    fn report(&self, what: &str) {
        let secs = self.elapsed.as_secs_f64();
        let rps = self.requests as f64 / secs;
        let volume = if self.bytes > 0 {
            format!(" ({:.0} MB/s of JSON)", self.bytes as f64 / secs / 1e6)
        } else {
            String::new()
        };
        println!(
            "{what}: {} requests in {secs:.2} s = {rps:.0} requests/s{volume}",
            self.requests
        );
    }
}

async fn raw_load(addr: String, bodies: Vec<String>, a: &Args) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let per_conn = a.requests / a.connections as u64;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let addr = addr.clone();
        let reqs: Vec<Vec<u8>> = bodies.iter().map(|b| request(&addr, b)).collect();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut buf = Vec::with_capacity(128 * 1024);
            let (mut n, mut bytes) = (0u64, 0u64);
            while n < per_conn && Instant::now() < deadline {
                let req = &reqs[(c + n as usize) % reqs.len()];
                stream.write_all(req).await.expect("write");
                let (status, len) = read_response(&mut stream, &mut buf)
                    .await
                    .expect("response");
                assert_eq!(status, 200, "the emulator answered an error");
                n += 1;
                bytes += len as u64;
            }
            (n, bytes)
        }));
    }
    let (mut requests, mut bytes) = (0, 0);
    for t in tasks {
        let (n, b) = t.await.expect("load task");
        requests += n;
        bytes += b;
    }
    Outcome {
        requests,
        bytes,
        elapsed: t0.elapsed(),
    }
}

async fn sdk_load(endpoint: String, tokens: Vec<Option<String>>, a: &Args) -> Outcome {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDBENCH",
            "secret",
            None,
            None,
            "static",
        ))
        .endpoint_url(&endpoint)
        .load()
        .await;
    let client = aws_sdk_licensemanager::Client::new(&config);
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let per_task = a.requests / 10 / a.connections as u64;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let client = client.clone();
        let tokens = tokens.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut grants = 0u64;
            while n < per_task && Instant::now() < deadline {
                let out = client
                    .list_distributed_grants()
                    .max_results(100)
                    .set_next_token(tokens[(c + n as usize) % tokens.len()].clone())
                    .send()
                    .await
                    .expect("ListDistributedGrants");
                grants += out.grants().len() as u64;
                n += 1;
            }
            (n, grants)
        }));
    }
    let (mut requests, mut grants) = (0, 0);
    for t in tasks {
        let (n, g) = t.await.expect("sdk task");
        requests += n;
        grants += g;
    }
    assert_eq!(grants, requests * 100, "every page is full");
    Outcome {
        requests,
        bytes: 0,
        elapsed: t0.elapsed(),
    }
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let emu = start(seed(), EmulatorOptions::default(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("emulator starts");
        let endpoint = emu.endpoint_url();
        // Walk the pages once to get every NextToken (10 full pages of 100).
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDBENCH", "secret", None, None, "static"))
            .endpoint_url(&endpoint)
            .load()
            .await;
        let client = aws_sdk_licensemanager::Client::new(&config);
        let mut tokens: Vec<Option<String>> = vec![None];
        loop {
            let out = client
                .list_distributed_grants()
                .max_results(100)
                .set_next_token(tokens.last().cloned().flatten())
                .send()
                .await
                .expect("ListDistributedGrants");
            match out.next_token() {
                Some(t) if out.grants().len() == 100 => tokens.push(Some(t.to_owned())),
                _ => break,
            }
        }
        tokens.truncate(10);
        let bodies: Vec<String> = tokens
            .iter()
            .map(|t| match t {
                None => "{\"MaxResults\":100}".to_owned(),
                Some(t) => format!("{{\"MaxResults\":100,\"NextToken\":\"{t}\"}}"),
            })
            .collect();
        println!(
            "emulator bench: ListDistributedGrants, pages of 100 grants, {} connections, at most {} requests or {} s per run, {} CPUs",
            a.connections,
            a.requests,
            a.seconds,
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        );
        let addr = emu.addr().to_string();
        raw_load(addr.clone(), bodies.clone(), &Args { requests: 2_000, seconds: 2, connections: a.connections })
            .await; // warm-up
        raw_load(addr, bodies, &a).await.report("raw HTTP load generator");
        sdk_load(endpoint, tokens, &a).await.report("aws-sdk-licensemanager client");
        emu.shutdown().await;
    });
}
