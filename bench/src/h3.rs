//! The page scenario's HTTP/3 variant: a static file server and a client,
//! HTTP/3 (the `h3` crate) over QUIC (`quinn` 0.11), TLS 1.3 from rustls
//! with the `ring` provider.
//!
//!   sctp-bench h3-serve ADDR:PORT --root DIR [--cc cubic|newreno] [--no-warmup]
//!   sctp-bench h3-get [--cc cubic|newreno] [--json] [--timeout SECS] [--no-warmup] URL...
//!
//! The server answers GET (and HEAD) of a file under DIR with 200 and its
//! Content-Length, anything else with 404 (405 for other methods). It
//! makes a self-signed certificate for "localhost" at startup and prints one
//! line, "listening ADDR (...)", with the transport settings that matter,
//! then one JSON line per connection when it ends (its QUIC counters:
//! packets sent and declared lost, congestion events, RTT, window).
//!
//! The client opens one connection and sends every request at once, each on
//! a stream of its own, as a browser would; it times each object from the
//! start of the fetch (handshake included) to the end of its body, checks
//! the body against Content-Length, and with --json prints the lines that
//! `sctp-http get --json` prints (sctp_bench::h3plan). It does not verify
//! the server's certificate: this is a benchmark client on a test path and
//! nothing else (the handshake's signature is still checked against the
//! certificate's key).
//!
//! Both ends: the congestion controller from --cc (quinn's Cubic by
//! default, or its NewReno), quinn's defaults for everything else (initial
//! window 12000 bytes, initial RTT estimate 333 ms, MTU discovery from 1200
//! bytes), and UDP generic segmentation offload (GSO) off, so that every
//! QUIC packet is its own datagram on the path, as SCTP's and TCP's
//! segments are under netem.
//!
//! Warm-up (both commands, unless --no-warmup): before anything is timed,
//! each process fetches a few files from itself over 127.0.0.1 with the
//! same settings. In the SCTP VM this is needed, not cosmetic: User-Mode
//! Linux loses the vector registers' bits above 128 (YMM, ZMM) when a page
//! fault interrupts a process, and *ring*'s AES-GCM and ChaCha20 code on
//! AVX2 hosts keeps state there, so the first run of that code in a process
//! (its pages not yet mapped) computes wrong results: packets that the peer
//! cannot authenticate, and drops, as if the path had lost them. Once the
//! code has run, it no longer faults. The certificate is Ed25519 for the
//! same reason (ring's P-256 key generation failed on its first run in the
//! VM; Ed25519 did not).

use bytes::{Buf, Bytes};
use quinn::congestion::{ControllerFactory, CubicConfig, NewRenoConfig};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use sctp_bench::h3plan::{file_for, summary_line, Cc, Fetch, Outcome};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// HTTP/3's H3_NO_ERROR: how the client closes its connection.
const H3_NO_ERROR: u32 = 0x100;

/// Both ends' UDP receive buffer (SO_RCVBUF): 4 MB, what sctp-http asks
/// for its SCTP socket (bench/run raises net.core.rmem_max to allow it).
/// With the default (208 KB here) the client in the SCTP VM dropped
/// datagrams of bursts that its one CPU did not read in time.
const RCVBUF: usize = 4 << 20;

/// A UDP socket bound to `addr` with `RCVBUF`, and the receive buffer the
/// kernel granted (half of what it reports: Linux doubles the figure).
fn udp_socket(addr: SocketAddr) -> Result<(std::net::UdpSocket, usize), String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let e = |e: std::io::Error| format!("UDP socket {addr}: {e}");
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(e)?;
    s.set_recv_buffer_size(RCVBUF).map_err(e)?;
    s.bind(&addr.into()).map_err(e)?;
    s.set_nonblocking(true).map_err(e)?;
    let granted = s.recv_buffer_size().map_err(e)? / 2;
    Ok((s.into(), granted))
}

/// An endpoint on `addr` (a server with `server`), on `udp_socket`.
fn endpoint(
    addr: SocketAddr,
    server: Option<quinn::ServerConfig>,
) -> Result<(quinn::Endpoint, usize), String> {
    let (sock, rcvbuf) = udp_socket(addr)?;
    let ep = quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        server,
        sock,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    Ok((ep, rcvbuf))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))
}

/// rustls's *ring* provider (X25519 key exchange, AES-GCM and ChaCha20
/// suites). rustls 0.23.48 deprecates it for its lack of post-quantum key
/// exchange, which the aws-lc-rs provider has; that one needs cmake and a C
/// build, and a benchmark path has no use for it.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn controller(cc: Cc) -> Arc<dyn ControllerFactory + Send + Sync> {
    match cc {
        Cc::Cubic => Arc::new(CubicConfig::default()),
        Cc::NewReno => Arc::new(NewRenoConfig::default()),
    }
}

/// The transport settings of both ends: quinn's defaults but for the
/// congestion controller and GSO.
fn transport(cc: Cc) -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.congestion_controller_factory(controller(cc))
        .enable_segmentation_offload(false);
    Arc::new(t)
}

/// What the controller starts with, as quinn builds it (bytes).
fn initial_window(cc: Cc) -> u64 {
    controller(cc).build(Instant::now(), 1200).initial_window()
}

/// A server endpoint on `addr` with a fresh self-signed certificate
/// (Ed25519: see the module's note on the SCTP VM), and its socket's
/// receive buffer.
pub fn server_endpoint(addr: SocketAddr, cc: Cc) -> Result<(quinn::Endpoint, usize), String> {
    let cert_err = |e: rcgen::Error| format!("certificate: {e}");
    let signing_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(cert_err)?;
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .map_err(cert_err)?
        .self_signed(&signing_key)
        .map_err(cert_err)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("rustls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(|e| format!("rustls: {e}"))?;
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| format!("quinn: {e}"))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport(cc));
    endpoint(addr, Some(config))
}

/// A connection's QUIC counters, as JSON.
fn quic_stats(conn: &quinn::Connection) -> serde_json::Value {
    let s = conn.stats();
    serde_json::json!({
        "sent_packets": s.path.sent_packets,
        "lost_packets": s.path.lost_packets,
        "lost_bytes": s.path.lost_bytes,
        "congestion_events": s.path.congestion_events,
        "udp_tx_datagrams": s.udp_tx.datagrams,
        "udp_rx_datagrams": s.udp_rx.datagrams,
        "rtt_ms": s.path.rtt.as_secs_f64() * 1000.0,
        "cwnd": s.path.cwnd,
        "mtu": s.path.current_mtu,
    })
}

/// Serves `root` on `ep` until the endpoint closes; with `report`, prints
/// each connection's counters when it ends (stdout) and its errors
/// (stderr). The warm-up's server reports nothing: in the SCTP VM its first
/// handshake fails by design (see the module's note).
pub async fn run_server(ep: quinn::Endpoint, root: PathBuf, report: bool) {
    let root = Arc::new(root);
    while let Some(incoming) = ep.accept().await {
        let root = root.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(incoming, root, report).await {
                if report {
                    eprintln!("sctp-bench h3-serve: {e}");
                }
            }
        });
    }
}

async fn connection(
    incoming: quinn::Incoming,
    root: Arc<PathBuf>,
    report: bool,
) -> Result<(), String> {
    let conn = incoming.await.map_err(|e| format!("handshake: {e}"))?;
    let peer = conn.remote_address();
    let r = serve_requests(conn.clone(), root, report).await;
    if report {
        let mut v = quic_stats(&conn);
        v["connection"] = peer.to_string().into();
        println!("{v}");
    }
    r.map_err(|e| format!("{peer}: {e}"))
}

async fn serve_requests(
    conn: quinn::Connection,
    root: Arc<PathBuf>,
    report: bool,
) -> Result<(), String> {
    let peer = conn.remote_address();
    let mut h3c: h3::server::Connection<h3_quinn::Connection, Bytes> =
        h3::server::Connection::new(h3_quinn::Connection::new(conn))
            .await
            .map_err(|e| e.to_string())?;
    loop {
        match h3c.accept().await {
            Ok(Some(resolver)) => {
                let root = root.clone();
                tokio::spawn(async move {
                    let r = match resolver.resolve_request().await {
                        Ok((req, stream)) => respond(req, stream, &root).await,
                        Err(e) => Err(format!("request: {e}")),
                    };
                    match r {
                        Err(e) if report => eprintln!("sctp-bench h3-serve: {peer}: {e}"),
                        _ => {}
                    }
                });
            }
            Ok(None) => return Ok(()),
            Err(e) if e.is_h3_no_error() => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

async fn respond(
    req: http::Request<()>,
    mut stream: h3::server::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>,
    root: &Path,
) -> Result<(), String> {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let head = req.method() == http::Method::HEAD;
    let (status, body) = if req.method() != http::Method::GET && !head {
        (405, Bytes::from_static(b"GET or HEAD only\n"))
    } else {
        match file_for(root, target).and_then(|p| std::fs::read(p).ok()) {
            Some(b) => (200, Bytes::from(b)),
            None => (404, Bytes::from_static(b"not found\n")),
        }
    };
    let resp = http::Response::builder()
        .status(status)
        .header("content-type", "application/octet-stream")
        .header("content-length", body.len())
        .body(())
        .map_err(|e| e.to_string())?;
    let e = |e: h3::error::StreamError| format!("{target}: {e}");
    stream.send_response(resp).await.map_err(e)?;
    if !head && !body.is_empty() {
        stream.send_data(body).await.map_err(e)?;
    }
    stream.finish().await.map_err(e)
}

/// Runs the code of both ends once in this process, untimed: a server on
/// 127.0.0.1 and a fetch of a few files from it (see the module's note).
pub async fn warm_up(cc: Cc) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "sctp-bench-h3-warmup-{}-{}",
        std::process::id(),
        cc.name()
    ));
    let sizes = [100usize, 8192, 65536, 262144];
    let r = async {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (i, n) in sizes.iter().enumerate() {
            let body: Vec<u8> = (0..*n).map(|b| (b * 13 + i) as u8).collect();
            std::fs::write(dir.join(format!("w{i}")), body).map_err(|e| e.to_string())?;
        }
        let (ep, _) = server_endpoint("127.0.0.1:0".parse().unwrap(), cc)?;
        let port = ep.local_addr().map_err(|e| e.to_string())?.port();
        let server = tokio::spawn(run_server(ep.clone(), dir.clone(), false));
        let f = Fetch {
            host: "127.0.0.1".into(),
            port,
            paths: (0..sizes.len()).map(|i| format!("/w{i}")).collect(),
        };
        let (outs, _, _) = fetch(&f, cc, Duration::from_secs(30)).await;
        ep.close(0u32.into(), b"");
        server.abort();
        match outs.iter().find(|o| !o.ok()) {
            Some(o) => Err(format!(
                "warm-up: {} {}",
                o.url,
                o.error.as_deref().unwrap_or("not 200")
            )),
            None => Ok(()),
        }
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// `h3-serve ADDR:PORT --root DIR [--cc cubic|newreno] [--no-warmup]`
pub fn serve(o: &crate::cli::H3Serve) -> Result<(), String> {
    let (addr, cc, warm) = (o.addr, o.cc, !o.no_warmup);
    let root = o.root.clone();
    if !root.is_dir() {
        return Err(format!("--root {}: not a directory", root.display()));
    }
    runtime()?.block_on(async {
        if warm {
            warm_up(cc).await?;
        }
        let (ep, rcvbuf) = server_endpoint(addr, cc)?;
        let local = ep.local_addr().map_err(|e| e.to_string())?;
        println!(
            "listening {local} (HTTP/3, quinn 0.11, rustls/ring, TLS 1.3, Ed25519 certificate; cc {}, initial window {} bytes, GSO off, UDP receive buffer {} KB{})",
            cc.name(),
            initial_window(cc),
            rcvbuf / 1024,
            if warm { ", warmed up" } else { "" }
        );
        run_server(ep, root, true).await;
        Ok(())
    })
}

/// Accepts any certificate (a benchmark on a test path, never anything
/// else); the handshake's signatures are still verified.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_config(cc: Cc) -> Result<quinn::ClientConfig, String> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("rustls: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| format!("quinn: {e}"))?;
    let mut c = quinn::ClientConfig::new(Arc::new(crypto));
    c.transport_config(transport(cc));
    Ok(c)
}

fn ms_since(start: Instant) -> Option<f64> {
    Some(start.elapsed().as_secs_f64() * 1000.0)
}

type Shared = Arc<Mutex<Outcome>>;

/// One request on its own stream, recorded in `out` as it goes.
async fn request(
    mut sr: h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>,
    uri: http::Uri,
    start: Instant,
    out: Shared,
) -> Result<(), String> {
    let set = |f: &dyn Fn(&mut Outcome)| f(&mut out.lock().unwrap());
    let req = http::Request::get(uri)
        .body(())
        .map_err(|e| e.to_string())?;
    let mut s = sr.send_request(req).await.map_err(|e| e.to_string())?;
    let id = s.id().into_inner();
    set(&|o| {
        o.stream = Some(id);
        o.sent_ms = ms_since(start);
    });
    s.finish().await.map_err(|e| e.to_string())?;
    let resp = s.recv_response().await.map_err(|e| e.to_string())?;
    let length = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    set(&|o| {
        o.first_ms = ms_since(start);
        o.status = Some(resp.status().as_u16());
        o.length = length;
    });
    while let Some(mut chunk) = s.recv_data().await.map_err(|e| e.to_string())? {
        let n = chunk.remaining();
        chunk.advance(n);
        set(&|o| o.bytes += n as u64);
    }
    set(&|o| o.done_ms = ms_since(start));
    Ok(())
}

/// Fetches every path of `f` over one connection, all requests at once;
/// each outcome is checked (`Outcome::check`). Also returns the whole
/// fetch's time in ms and, once connected, the connection's counters.
pub async fn fetch(
    f: &Fetch,
    cc: Cc,
    timeout: Duration,
) -> (Vec<Outcome>, f64, Option<serde_json::Value>) {
    let start = Instant::now();
    let outs: Vec<Shared> = (0..f.paths.len())
        .map(|i| {
            Arc::new(Mutex::new(Outcome {
                url: f.url(i),
                ..Outcome::default()
            }))
        })
        .collect();
    let fail_all = |e: String| {
        for o in &outs {
            o.lock().unwrap().error.get_or_insert_with(|| e.clone());
        }
    };
    let run = async {
        let addr = tokio::net::lookup_host((f.host.as_str(), f.port))
            .await
            .map_err(|e| format!("{}: {e}", f.host))?
            .next()
            .ok_or_else(|| format!("{}: no address", f.host))?;
        let local: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().unwrap()
        } else {
            "[::]:0".parse().unwrap()
        };
        let (mut ep, _) = endpoint(local, None)?;
        ep.set_default_client_config(client_config(cc)?);
        let conn = ep
            .connect(addr, &f.host)
            .map_err(|e| format!("connect: {e}"))?
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let (mut driver, sr) = h3::client::new(h3_quinn::Connection::new(conn.clone()))
            .await
            .map_err(|e| format!("HTTP/3: {e}"))?;
        let drive =
            tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
        let mut tasks = tokio::task::JoinSet::new();
        for (i, out) in outs.iter().enumerate() {
            let uri: http::Uri = f.url(i).parse().map_err(|e| format!("{}: {e}", f.url(i)))?;
            let (sr, out) = (sr.clone(), out.clone());
            tasks.spawn(async move {
                if let Err(e) = request(sr, uri, start, out.clone()).await {
                    out.lock().unwrap().error.get_or_insert(e);
                }
            });
        }
        drop(sr);
        while tasks.join_next().await.is_some() {}
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let stats = quic_stats(&conn);
        conn.close(H3_NO_ERROR.into(), b"");
        drive.abort();
        Ok::<_, String>((ep, ms, stats))
    };
    let (ms, stats) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok((ep, ms, stats))) => {
            // Let the CONNECTION_CLOSE go out; the measurement is over.
            let _ = tokio::time::timeout(Duration::from_millis(300), ep.wait_idle()).await;
            (ms, Some(stats))
        }
        Ok(Err(e)) => {
            fail_all(e);
            (start.elapsed().as_secs_f64() * 1000.0, None)
        }
        Err(_) => {
            fail_all(format!("timed out after {} s", timeout.as_secs_f64()));
            (start.elapsed().as_secs_f64() * 1000.0, None)
        }
    };
    let mut v: Vec<Outcome> = outs.iter().map(|o| o.lock().unwrap().clone()).collect();
    for o in &mut v {
        o.check();
    }
    (v, ms, stats)
}

/// `h3-get [--cc cubic|newreno] [--json] [--timeout SECS] [--no-warmup] URL...`
pub fn get(o: &crate::cli::H3Get) -> Result<(), String> {
    let (cc, json, warm) = (o.cc, o.json, !o.no_warmup);
    let timeout = Duration::from_secs_f64(o.timeout);
    let urls = &o.urls;
    let f = Fetch::from_urls(urls)?;
    let (outs, ms, stats) = runtime()?.block_on(async {
        if warm {
            warm_up(cc).await?;
        }
        Ok::<_, String>(fetch(&f, cc, timeout).await)
    })?;
    for o in &outs {
        if json {
            println!("{}", o.json_line());
        } else {
            eprintln!(
                "{} {} {} bytes done {} ms{}",
                o.status.map_or("---".into(), |s| s.to_string()),
                o.url,
                o.bytes,
                o.done_ms.map_or("-".into(), |d| format!("{d:.1}")),
                o.error
                    .as_deref()
                    .map_or(String::new(), |e| format!(" ERROR: {e}"))
            );
        }
    }
    if json {
        println!("{}", summary_line(&outs, cc, ms, stats));
    }
    let bad = outs.iter().filter(|o| !o.ok()).count();
    if bad > 0 {
        return Err(format!("h3-get: {bad} of {} objects failed", outs.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server and a client on the loopback address, in one runtime: the
    /// files arrive whole, a missing one is a 404, nothing escapes the root.
    #[test]
    fn fetches_over_loopback() {
        let dir = std::env::temp_dir().join(format!("sctp-bench-h3-{}", std::process::id()));
        let root = dir.join("htdocs");
        std::fs::create_dir_all(root.join("page")).unwrap();
        std::fs::write(dir.join("secret"), b"no").unwrap();
        let sizes = [0usize, 1, 8192, 300_000];
        for (i, n) in sizes.iter().enumerate() {
            let body: Vec<u8> = (0..*n).map(|b| (b * 7 + i) as u8).collect();
            std::fs::write(root.join(format!("page/o{i}.bin")), body).unwrap();
        }
        for cc in [Cc::Cubic, Cc::NewReno] {
            let rt = runtime().unwrap();
            let (outs, _, stats) = rt.block_on(async {
                warm_up(cc).await.unwrap();
                let (ep, _) = server_endpoint("127.0.0.1:0".parse().unwrap(), cc).unwrap();
                let port = ep.local_addr().unwrap().port();
                tokio::spawn(run_server(ep, root.clone(), false));
                let mut urls: Vec<String> = (0..sizes.len())
                    .map(|i| format!("https://127.0.0.1:{port}/page/o{i}.bin"))
                    .collect();
                urls.push(format!("https://127.0.0.1:{port}/page/missing.bin"));
                urls.push(format!("https://127.0.0.1:{port}/../secret"));
                let f = Fetch::from_urls(&urls).unwrap();
                fetch(&f, cc, Duration::from_secs(30)).await
            });
            assert_eq!(outs.len(), sizes.len() + 2);
            let stats = stats.expect("connected");
            assert!(stats["udp_rx_datagrams"].as_u64() > Some(0), "{stats}");
            for (o, n) in outs.iter().zip(sizes) {
                assert!(o.ok(), "{o:?}");
                assert_eq!((o.bytes, o.length), (n as u64, Some(n as u64)), "{o:?}");
                assert!(o.done_ms >= o.first_ms && o.first_ms >= o.sent_ms);
            }
            let streams: std::collections::HashSet<_> = outs.iter().map(|o| o.stream).collect();
            assert_eq!(streams.len(), outs.len(), "a stream per request");
            for o in &outs[sizes.len()..] {
                assert_eq!(o.status, Some(404), "{o:?}");
                assert!(o.error.is_none() && !o.ok());
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn controllers_start_with_quinns_window() {
        assert_eq!(initial_window(Cc::Cubic), 12000);
        assert_eq!(initial_window(Cc::NewReno), 12000);
    }
}
