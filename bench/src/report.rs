//! RESULTS.md and its plots from the records of one `ci/bench` run
//! (sans-I/O: records text in, file names and contents out).

use crate::plot::{bar_chart, line_chart, Bar, Series};
use crate::stats::{fmt_ms, mathis_ms, ratio, summarize, Summary};
use serde_json::Value;
use std::fmt::Write;

/// The page variants, in the order of the tables: (key, description).
const PAGE_VARIANTS: &[(&str, &str)] = &[
    (
        "sctp",
        "SCTP, one association, 16 streams, pipelined (sctp-http)",
    ),
    (
        "sctp-rto200",
        "the same with SCTP rto_min 200 ms (TCP's minimum RTO)",
    ),
    (
        "sctp-sack1",
        "the same as `sctp`, the client acknowledging every packet instead of every second \
         (SCTP_DELAYED_SACK frequency 1: sctp-http --sack-freq 1)",
    ),
    (
        "sctp-assoc6",
        "SCTP, six associations, browser style like `tcp6`: the next request to the association \
         with the fewest outstanding, 16 streams each (sctp-http --associations 6)",
    ),
    (
        "sctp-assoc6-sack1",
        "both: six associations, every packet acknowledged (--associations 6 --sack-freq 1)",
    ),
    (
        "tcp1",
        "HTTP/1.1 pipelined over one TCP connection (sctp-http --tcp)",
    ),
    (
        "tcp6",
        "HTTP/1.1 over six TCP connections, browser style (sctp-http --tcp --connections 6)",
    ),
    (
        "h2",
        "HTTP/2 over one TCP connection, mod_http2 h2c (nghttp)",
    ),
    (
        "h3",
        "HTTP/3 over QUIC (quinn 0.11, Cubic), one connection, every request at once on a stream of its own (sctp-bench h3-get, h3-serve)",
    ),
    (
        "h3-newreno",
        "the same with quinn's NewReno congestion controller",
    ),
];

/// The SCTP variants of the page, for the targets against HTTP/3.
/// The page's SCTP variants (the "best SCTP variant" of the targets).
const PAGE_SCTP: &[&str] = &[
    "sctp",
    "sctp-rto200",
    "sctp-sack1",
    "sctp-assoc6",
    "sctp-assoc6-sack1",
];

/// The page's SCTP variants over several associations, browser style.
const PAGE_SCTP_MULTI: &[&str] = &["sctp-assoc6", "sctp-assoc6-sack1"];

const BULK_VARIANTS: &[(&str, &str)] = &[
    (
        "pump",
        "plain SCTP socket pump (sctp-bench), 32 KB messages",
    ),
    (
        "mod_sctp",
        "httpd + mod_sctp, one association (sctp-http get)",
    ),
    ("tcp", "httpd over TCP, same file (sctp-http get --tcp)"),
    (
        "pump-offloads-off",
        "the pump, veth segmentation and receive offloads off",
    ),
    ("mod_sctp-offloads-off", "httpd + mod_sctp, offloads off"),
    ("tcp-offloads-off", "httpd over TCP, offloads off"),
];

/// The suffix of the bulk variants measured with the veth's offloads off.
const OFFLOADS_OFF: &str = "-offloads-off";

const RATE_VARIANTS: &[(&str, &str)] = &[
    ("sctp", "SCTP, 16 associations (sctp-http bench)"),
    ("tcp", "TCP, 16 connections (sctp-http bench --tcp)"),
    ("wrk", "TCP, 16 connections (wrk -t2)"),
    ("h2load", "TCP, 16 connections (h2load --h1)"),
];

const FCGI_VARIANTS: &[(&str, &str)] = &[
    (
        "sctp",
        "FastCGI over SCTP: one association, a stream per request (fcgi-bridge request --to sctp:)",
    ),
    (
        "tcp-mpx",
        "FastCGI multiplexed on one TCP connection, FCGI_MPXS_CONNS (--to tcp:)",
    ),
    (
        "tcp-per-request",
        "one TCP connection per request, no KEEP_CONN, like stock mod_proxy_fcgi (--tcp-per-request)",
    ),
];

/// The path of scenario 1 (bench/run's netem): round trip and link rate.
const PATH_RTT_S: f64 = 0.1;
const LINK_BYTES_PER_S: f64 = 20e6 / 8.0;
/// Payload per full packet at a 1500-byte MTU over IPv4: TCP with
/// timestamps 1500 - 20 - 32; SCTP 1500 - 20 (IP) - 12 (common header) -
/// 16 (DATA chunk header), Linux's fragmentation point.
const TCP_MSS: f64 = 1448.0;
const SCTP_PAYLOAD: f64 = 1452.0;
/// bench/page.txt's bytes, for records that do not carry them.
const PAGE_BYTES: f64 = 1_572_864.0;

/// A page variant's payload per packet and congestion windows (each
/// association or TCP connection has one; an association's streams share
/// it).
fn page_windows(variant: &str) -> (f64, u32) {
    let mss = if variant.starts_with("sctp") {
        SCTP_PAYLOAD
    } else {
        TCP_MSS
    };
    let windows = if variant == "tcp6" || variant.starts_with("sctp-assoc6") {
        6
    } else {
        1
    };
    (mss, windows)
}

struct Records(Vec<Value>);

impl Records {
    fn of<'a>(&'a self, s: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0.iter().filter(move |v| v["s"] == s)
    }
    fn values(&self, s: &str, variant: &str, key: &str) -> Vec<f64> {
        self.of(s)
            .filter(|v| v["variant"] == variant)
            .filter_map(|v| v[key].as_f64())
            .collect()
    }
}

fn cell(s: &Option<Summary>, f: impl Fn(&Summary) -> f64) -> String {
    s.as_ref().map_or("—".into(), |s| fmt_ms(f(s)))
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{r:.2}×"))
}

fn verdict(r: Option<f64>, limit: f64, at_most: bool) -> &'static str {
    match r {
        None => "not measured",
        Some(r) if (at_most && r <= limit) || (!at_most && r >= limit) => "met",
        Some(_) => "missed",
    }
}

/// Renders RESULTS.md and the SVG plots; `notes` (hand-written reasons) is
/// appended under "Why".
pub fn render(records: &str, notes: &str) -> Result<Vec<(String, String)>, String> {
    let mut all = Vec::new();
    for (i, l) in records.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(l).map_err(|e| format!("record {}: {e}", i + 1))?;
        all.push(v);
    }
    let r = Records(all);
    let mut md = String::new();
    let mut files = Vec::new();
    let mut targets: Vec<(String, String, &str)> = Vec::new();

    md.push_str("# mod_sctp benchmarks\n\n");
    md.push_str(
        "Generated by `ci/bench` (do not edit by hand: rerun it). Every number below comes \
         from one run, one boot of the SCTP VM; ratios compare figures measured in that same \
         run. Median and p95 are over all samples of a cell (R-7 interpolation). Benchmarks \
         never fail on a timing; a wrong transfer is listed at the end and fails `ci/bench`.\n\n",
    );
    if r.of("env").count() > 1 {
        md.push_str(
            "Some sections were measured in a run of their own (`SCTP_BENCH_ONLY`, records \
             merged with `sctp-bench merge`); each such section says so and when. The setup \
             table below is the first run's.\n\n",
        );
    }
    if let Some(env) = r.of("env").next() {
        md.push_str("| Setup | |\n|---|---|\n");
        if let Some(o) = env.as_object() {
            for (k, v) in o.iter().filter(|(k, _)| *k != "s") {
                let v = v.as_str().map_or(v.to_string(), String::from);
                let _ = writeln!(md, "| {k} | {v} |");
            }
            // What a later run of some sections recorded that the first
            // did not (e.g. the loss model's evidence), with its date.
            for later in r.of("env").skip(1) {
                let Some(l) = later.as_object() else { continue };
                let date = l.get("date").and_then(Value::as_str).unwrap_or("?");
                for (k, v) in l.iter().filter(|(k, _)| *k != "s" && !o.contains_key(*k)) {
                    let v = v.as_str().map_or(v.to_string(), String::from);
                    let _ = writeln!(md, "| {k} (run of {date}) | {v} |");
                }
            }
        }
        md.push('\n');
    }

    // 1. The page under loss.
    let losses: Vec<f64> = {
        let mut l: Vec<f64> = r.of("page").filter_map(|v| v["loss"].as_f64()).collect();
        l.sort_by(f64::total_cmp);
        l.dedup();
        l
    };
    if !losses.is_empty() {
        md.push_str("## 1. A page of 32 objects under loss\n\n");
        md.push_str(
            "The page (bench/page.txt): 16 × 8 KB, 12 × 32 KB, 4 × 256 KB, 1.5 MB in all. Two \
             network namespaces joined by a veth pair, netem on both ends: 20 Mbit/s, 50 ms \
             delay each way (100 ms RTT), random loss as given, both directions; the veth's \
             segmentation and receive offloads off on both ends, so that netem's loss is drawn \
             per wire packet for every protocol (setup table: ethtool's view and the largest \
             frames; the same for every netem-shaped scenario below). A fresh \
             connection per page; an object's completion time runs from the start of the fetch \
             (connection setup included) to its last byte.\n\n",
        );
        for (k, d) in PAGE_VARIANTS {
            if r.of("page").any(|v| v["variant"] == *k) {
                let _ = writeln!(md, "- `{k}`: {d}");
            }
        }
        if r.of("page")
            .any(|v| v["variant"] == "h3" || v["variant"] == "h3-newreno")
        {
            md.push_str(
                "\n`h3` and `h3-newreno` are the modern answer to head-of-line blocking, not \
                 httpd: `sctp-bench h3-serve` (HTTP/3 from the `h3` crate over `quinn` 0.11, \
                 TLS 1.3 from rustls on *ring*, a self-signed certificate) serves the same files \
                 in the server namespace over UDP, and `sctp-bench h3-get` fetches the page over \
                 one QUIC connection with every request on a stream of its own from the start. \
                 Both ends use quinn's defaults (initial window 12000 bytes, RFC 9002 loss \
                 recovery) but for the congestion controller, Cubic for `h3` and NewReno for \
                 `h3-newreno`, and UDP segmentation offload (GSO), which is off so that each \
                 QUIC packet crosses netem on its own as SCTP's and TCP's segments do.\n",
            );
        }
        md.push_str(
            "\n| loss | variant | pages | object median ms | object p95 ms | page median ms | page p95 ms | object p95 vs `sctp` | limit, 1 window ms | limit, 6 windows ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
        );
        let page_bytes = r
            .of("page")
            .find_map(|v| v["page_bytes"].as_f64())
            .unwrap_or(PAGE_BYTES);
        let mut p95_series = Vec::new();
        let mut page_series = Vec::new();
        let runs_of = |k: &str, loss: f64| -> Vec<&Value> {
            r.of("page")
                .filter(|v| v["variant"] == k && v["loss"].as_f64() == Some(loss))
                .collect()
        };
        let sums = |runs: &[&Value]| {
            let objs: Vec<f64> = runs
                .iter()
                .flat_map(|v| v["objects_ms"].as_array().into_iter().flatten())
                .filter_map(Value::as_f64)
                .collect();
            let pages: Vec<f64> = runs.iter().filter_map(|v| v["page_ms"].as_f64()).collect();
            (summarize(&objs), summarize(&pages))
        };
        // The plots: one series per variant, with the spread of its runs
        // (each run's object p95; each page's completion): minimum to
        // maximum.
        let run_p95s = |runs: &[&Value]| -> Vec<f64> {
            runs.iter()
                .filter_map(|v| {
                    let objs: Vec<f64> = v["objects_ms"]
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_f64)
                        .collect();
                    summarize(&objs).map(|s| s.p95)
                })
                .collect()
        };
        for (k, _) in PAGE_VARIANTS {
            let (mut pts, mut ppts, mut spread, mut pspread) = (vec![], vec![], vec![], vec![]);
            for &loss in &losses {
                let runs = runs_of(k, loss);
                let (o, p) = sums(&runs);
                if let (Some(o), Some(p)) = (o, p) {
                    pts.push((loss, o.p95));
                    ppts.push((loss, p.median));
                    pspread.push((loss, p.min, p.max));
                    if let Some(rs) = summarize(&run_p95s(&runs)) {
                        spread.push((loss, rs.min, rs.max));
                    }
                }
            }
            if !pts.is_empty() {
                p95_series.push(Series {
                    name: k.to_string(),
                    points: pts,
                    spread,
                });
                page_series.push(Series {
                    name: k.to_string(),
                    points: ppts,
                    spread: pspread,
                });
            }
        }
        // The table: by loss, then variant.
        for &loss in &losses {
            let base = page_p95(&r, "sctp", loss);
            for (k, _) in PAGE_VARIANTS {
                let runs = runs_of(k, loss);
                if runs.is_empty() {
                    continue;
                }
                let (o, p) = sums(&runs);
                let (mss, windows) = page_windows(k);
                let limit = |n: u32| {
                    let v = mathis_ms(
                        page_bytes,
                        mss,
                        PATH_RTT_S,
                        loss / 100.0,
                        n,
                        LINK_BYTES_PER_S,
                    );
                    let v = v.map_or("no limit".into(), fmt_ms);
                    if n == windows {
                        format!("**{v}**")
                    } else {
                        v
                    }
                };
                let _ = writeln!(
                    md,
                    "| {loss}% | `{k}` | {} | {} | {} | {} | {} | {} | {} | {} |",
                    runs.len(),
                    cell(&o, |s| s.median),
                    cell(&o, |s| s.p95),
                    cell(&p, |s| s.median),
                    cell(&p, |s| s.p95),
                    fmt_ratio(base.and_then(|b| o.as_ref().and_then(|o| ratio(b, o.p95)))),
                    limit(1),
                    limit(6),
                );
            }
        }
        let _ = write!(
            md,
            "\nThe column \"object p95 vs `sctp`\" is `sctp`'s object p95 divided by the row's: \
             below 1 means \
             SCTP finished its slow objects sooner. The limits are the least time to move the \
             page's {:.2} MB through congestion windows that random loss holds down (Mathis et \
             al. 1997: one window moves at most MSS/RTT × √(3/(2p)), p the loss rate, every \
             packet acknowledged), with {} bytes per packet for TCP and {} for SCTP (1500 - 20 \
             IP - 12 SCTP - 16 DATA chunk header), RTT {} ms, and never faster than the link \
             ({} Mbit/s: {} ms for the page); \"no limit\" without loss. One window is one \
             association or TCP connection (an association's streams share one), six are six \
             (`tcp6`, `sctp-assoc6*`); the bold one applies to the row. The model ignores slow \
             start, the handshakes and timeouts, so a variant can come near its limit but not \
             under it by much; with a SACK for every second packet (the default) the limit is \
             √2 longer. It also assumes that losses strike single packets, which is why the veth's \
             segmentation and receive offloads are off in every lossy cell (with them on, netem \
             would drop super-packets of several wire packets at once: fewer loss events than p \
             per packet, and a variant could beat its limit).\n\n",
            page_bytes / 1e6,
            TCP_MSS,
            SCTP_PAYLOAD,
            PATH_RTT_S * 1000.0,
            LINK_BYTES_PER_S * 8.0 / 1e6,
            fmt_ms(page_bytes / LINK_BYTES_PER_S * 1000.0),
        );
        // HTTP/3's datagrams dropped by a full UDP socket buffer: losses
        // beside netem's, which would count against h3.
        for v in r.of("page_udp") {
            let n = |k: &str| v[k].as_u64().map_or("?".into(), |n| n.to_string());
            let _ = writeln!(
                md,
                "UDP datagrams dropped by a full socket buffer during the page runs (`h3`, \
                 `h3-newreno`; /proc/net/snmp RcvbufErrors, SndbufErrors): client {} and {}, \
                 server {} and {}.\n",
                n("client_rcvbuf_errors"),
                n("client_sndbuf_errors"),
                n("server_rcvbuf_errors"),
                n("server_sndbuf_errors"),
            );
        }
        files.push((
            "page-object-p95.svg".to_string(),
            line_chart(
                "p95 object completion vs loss, 20 Mbit/s 100 ms RTT (bars: min–max)",
                "loss (%)",
                "p95 object completion (ms)",
                &p95_series,
            ),
        ));
        files.push((
            "page-median.svg".to_string(),
            line_chart(
                "median page completion vs loss, 20 Mbit/s 100 ms RTT (bars: min–max)",
                "loss (%)",
                "median page completion (ms)",
                &page_series,
            ),
        ));
        md.push_str("![p95 object completion vs loss](page-object-p95.svg)\n\n");
        md.push_str("![median page completion vs loss](page-median.svg)\n\n");
        md.push_str(
            "The plots' labels are the variants listed above (from the eighth on, lines are \
             dashed); each point's vertical bar spans the runs behind it, minimum to maximum \
             (the p95 plot: each page's own object p95; the median plot: each page's completion \
             time), nudged sideways so that the variants' bars at one loss rate stay apart.\n\n",
        );
        for &loss in losses.iter().filter(|&&l| l > 0.0) {
            let s = page_p95(&r, "sctp", loss);
            for (base, limit, name) in [("tcp1", 0.7, "TCP pipelined"), ("h2", 0.8, "HTTP/2")] {
                let q = s.and_then(|s| page_p95(&r, base, loss).and_then(|b| ratio(s, b)));
                targets.push((
                    format!("page p95 object completion at {loss}% loss: SCTP ≤ {limit}× {name}"),
                    fmt_ratio(q),
                    verdict(q, limit, true),
                ));
            }
            // The best of some SCTP variants at this loss against another.
            let mut best_vs = |among: &[&str], what: &str, base: &str, name: &str, limit: f64| {
                let best = among
                    .iter()
                    .filter_map(|k| page_p95(&r, k, loss).map(|p| (*k, p)))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                let b = page_p95(&r, base, loss);
                let q = best.and_then(|(_, p)| b.and_then(|b| ratio(p, b)));
                targets.push((
                    format!(
                        "page p95 object completion at {loss}% loss: {what}{} ≤ {limit}× {name}",
                        best.map_or(String::new(), |(k, _)| format!(" (`{k}`)"))
                    ),
                    fmt_ratio(q),
                    verdict(q, limit, true),
                ));
            };
            best_vs(PAGE_SCTP, "best SCTP variant", "h3", "HTTP/3 (`h3`)", 0.9);
            best_vs(PAGE_SCTP, "best SCTP variant", "h2", "HTTP/2 (`h2`)", 0.9);
            best_vs(
                PAGE_SCTP_MULTI,
                "multi-association SCTP",
                "tcp6",
                "six TCP connections (`tcp6`)",
                1.0,
            );
        }
        if losses.contains(&0.0) {
            let s = page_p95(&r, "sctp", 0.0);
            let q = s.and_then(|s| page_p95(&r, "h2", 0.0).and_then(|b| ratio(s, b)));
            targets.push((
                "page p95 object completion without loss: SCTP ≤ 1.1× HTTP/2".into(),
                fmt_ratio(q),
                verdict(q, 1.1, true),
            ));
        }
    }

    // 2. Bulk.
    if r.of("bulk").next().is_some() {
        md.push_str("## 2. Bulk throughput\n\n");
        md.push_str(
            "One 256 MB file (random bytes, tmpfs) over the veth pair without netem, with the \
             veth's segmentation and receive offloads as the kernel has them and turned off \
             (`-offloads-off`, as in every lossy cell; the setup table shows both states and the \
             largest frames), alternating; the client discards the body (the first run of each \
             transport is checked byte for byte with sha256 and not timed). \"vs pump\" divides \
             by the pump with the same offloads.\n\n| variant | runs | time median s | time p95 s | MB/s (median) | vs pump |\n|---|---|---|---|---|---|\n",
        );
        let pump_on = summarize(&r.values("bulk", "pump", "secs"));
        let pump_off = summarize(&r.values("bulk", &format!("pump{OFFLOADS_OFF}"), "secs"));
        let mut bars = Vec::new();
        for (k, d) in BULK_VARIANTS {
            let secs = r.values("bulk", k, "secs");
            let Some(s) = summarize(&secs) else { continue };
            let bytes = r.values("bulk", k, "bytes").first().copied().unwrap_or(0.0);
            let mbs = bytes / s.median / 1e6;
            let off = k.ends_with(OFFLOADS_OFF);
            let pump = if off { &pump_off } else { &pump_on };
            let q = pump.as_ref().and_then(|p| ratio(p.median, s.median));
            let _ = writeln!(
                md,
                "| {d} | {} | {:.2} | {:.2} | {mbs:.0} | {} |",
                s.n,
                s.median,
                s.p95,
                fmt_ratio(q)
            );
            bars.push(Bar {
                label: k.to_string(),
                value: mbs,
                // Slowest and fastest run.
                spread: Some((bytes / s.max / 1e6, bytes / s.min / 1e6)),
            });
            if k.starts_with("mod_sctp") {
                let how = if off { "offloads off" } else { "offloads on" };
                targets.push((
                    format!("bulk ({how}): mod_sctp ≥ 0.9× plain SCTP pump"),
                    fmt_ratio(q),
                    verdict(q, 0.9, false),
                ));
            }
        }
        files.push((
            "bulk.svg".to_string(),
            bar_chart(
                "256 MB, one connection, veth without netem (median; bars: min–max)",
                "MB/s",
                &bars,
            ),
        ));
        md.push_str("\n![bulk throughput](bulk.svg)\n\n");
    }

    // 3. Request rate.
    if r.of("rate").next().is_some() {
        md.push_str("## 3. Request rate\n\n");
        md.push_str(
            "A 1 KB file, keep-alive, 16 concurrent connections, one request at a time on each, \
             10 s per run, client and server in the VM's two namespaces (one CPU between them). \
             Latency columns are medians over runs of each run's percentile.\n\n",
        );
        if let Some(l) = own_run(&r, "rate", "rate") {
            md.push_str(&l);
        }
        md.push_str(
            "| client | runs | req/s median | req/s min | latency p50 ms | latency p99 ms |\n|---|---|---|---|---|---|\n",
        );
        let mut bars = Vec::new();
        for (k, d) in RATE_VARIANTS {
            let Some(s) = summarize(&r.values("rate", k, "rps")) else {
                continue;
            };
            let p50 = summarize(&r.values("rate", k, "p50_ms"));
            let p99 = summarize(&r.values("rate", k, "p99_ms"));
            let _ = writeln!(
                md,
                "| {d} | {} | {:.0} | {:.0} | {} | {} |",
                s.n,
                s.median,
                s.min,
                cell(&p50, |s| s.median),
                cell(&p99, |s| s.median)
            );
            bars.push(Bar {
                label: if *k == "h2load" {
                    "h2load --h1 (HTTP/1.1)".to_string()
                } else {
                    k.to_string()
                },
                value: s.median,
                spread: Some((s.min, s.max)),
            });
        }
        let med = |k| summarize(&r.values("rate", k, "rps")).map(|s| s.median);
        let q = med("sctp").and_then(|s| med("tcp").and_then(|t| ratio(s, t)));
        let qc = med("tcp").and_then(|s| med("wrk").and_then(|t| ratio(s, t)));
        let _ = writeln!(
            md,
            "\nSCTP / TCP with the same client: {}. The client's own cost: sctp-http bench over TCP \
             reaches {} of wrk's rate.\n",
            fmt_ratio(q),
            fmt_ratio(qc)
        );
        targets.push((
            "request rate: SCTP ≥ 0.8× TCP".into(),
            fmt_ratio(q),
            verdict(q, 0.8, false),
        ));
        files.push((
            "rate.svg".to_string(),
            bar_chart(
                "1 KB req/s, 16 connections, veth without netem (median; bars: min–max)",
                "req/s",
                &bars,
            ),
        ));
        md.push_str("![request rate](rate.svg)\n\n");
    }

    // 4. Module load cost.
    if r.of("modload").next().is_some() {
        md.push_str("## 4. Cost of loading the module\n\n");
        md.push_str(
            "TCP only: the same configuration with and without `LoadModule sctp_module` (with it, \
             an idle `Listen ... sctp` too), wrk -t2 -c16, 10 s runs, alternating.\n\n\
             | httpd | runs | req/s median | req/s min | req/s max |\n|---|---|---|---|---|\n",
        );
        for k in ["without", "with"] {
            if let Some(s) = summarize(&r.values("modload", k, "rps")) {
                let _ = writeln!(
                    md,
                    "| {k} mod_sctp | {} | {:.0} | {:.0} | {:.0} |",
                    s.n, s.median, s.min, s.max
                );
            }
        }
        let sum = |k| summarize(&r.values("modload", k, "rps"));
        let d = sum("with").and_then(|w| sum("without").and_then(|wo| ratio(w.median, wo.median)));
        let pct = d.map(|d| (d - 1.0) * 100.0);
        // How far apart runs of one configuration were: a difference
        // smaller than that is not resolved by this run.
        let spread = ["with", "without"]
            .iter()
            .filter_map(|k| sum(k))
            .map(|s| (s.max - s.min) / s.median * 50.0)
            .fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "\nDifference (with / without − 1): {}; runs of one configuration spread ±{spread:.0}% around their median.\n",
            pct.map_or("—".into(), |p| format!("{p:+.1}%"))
        );
        targets.push((
            "module load: ≤ 1% difference in TCP req/s".into(),
            pct.map_or("—".into(), |p| {
                format!("{p:+.1}% (runs spread ±{spread:.0}%)")
            }),
            match pct {
                None => "not measured",
                Some(p) if p.abs() <= 1.0 => "met",
                Some(p) if p.abs() < spread => "not resolved: within the spread of runs",
                Some(_) => "missed",
            },
        ));
    }

    // 5. Memory.
    if r.of("mem").next().is_some() {
        md.push_str("## 5. Memory of idle connections\n\n");
        md.push_str(
            "httpd (event MPM) holding idle keep-alive connections, each of which has served one \
             1 KB request. RSS and PSS are summed over all httpd processes; kernel memory is the \
             growth of Slab in /proc/meminfo (socket buffers and association state).\n\n\
             | connections | held | httpd RSS MB (before → with) | httpd PSS MB (before → with) | per connection: PSS KB | kernel slab per connection KB |\n|---|---|---|---|---|---|\n",
        );
        for v in r.of("mem") {
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            let held = f("held").max(1.0);
            let _ = writeln!(
                md,
                "| {} {} | {} | {:.1} → {:.1} | {:.1} → {:.1} | {:.1} | {:.1} |",
                f("conns"),
                v["variant"].as_str().unwrap_or("?"),
                f("held"),
                f("rss_kb_base") / 1024.0,
                f("rss_kb") / 1024.0,
                f("pss_kb_base") / 1024.0,
                f("pss_kb") / 1024.0,
                (f("pss_kb") - f("pss_kb_base")) / held,
                (f("slab_kb") - f("slab_kb_base")) / held,
            );
        }
        md.push('\n');
    }

    // 6. FastCGI: small requests beside a large response.
    if r.of("fastcgi").next().is_some() {
        fastcgi_section(&r, &mut md, &mut targets);
    }

    // 7. Head-of-line: small requests beside a slow response.
    if r.of("hol").next().is_some() {
        hol_section(&r, &mut md, &mut targets);
    }

    // 8. The SCTPMaxConcurrentStreams sweep.
    if r.of("streams").next().is_some() {
        streams_section(&r, &mut md);
    }

    // 9. ADUs over one association.
    let adu: Vec<&Value> = r.of("adu").collect();
    md.push_str(&crate::adu_report::section(&adu, own_run(&r, "adu", "adu")));

    // Targets, failures, notes.
    let mut head =
        String::from("## Targets at a glance\n\n| target | measured | |\n|---|---|---|\n");
    for (t, m, v) in &targets {
        let _ = writeln!(head, "| {t} | {m} | {v} |");
    }
    head.push('\n');
    if let Some(i) = md.find("\n## ") {
        md.insert_str(i + 1, &head);
    } else {
        md.push_str(&head);
    }
    let fails: Vec<String> = r
        .of("fail")
        .filter_map(|v| v["what"].as_str().map(String::from))
        .collect();
    md.push_str("## Wrong transfers\n\n");
    if fails.is_empty() {
        md.push_str(
            "None: every object of every run arrived with status 200 and its exact size.\n\n",
        );
    } else {
        for f in &fails {
            let _ = writeln!(md, "- {f}");
        }
        md.push('\n');
    }
    if !notes.trim().is_empty() {
        md.push_str(notes.trim_end());
        md.push('\n');
    }
    files.insert(0, ("RESULTS.md".to_string(), md));
    Ok(files)
}

/// p95 of all object completion times of `variant` at `loss`.
fn page_p95(r: &Records, variant: &str, loss: f64) -> Option<f64> {
    let objs: Vec<f64> = r
        .of("page")
        .filter(|v| v["variant"] == variant && v["loss"].as_f64() == Some(loss))
        .flat_map(|v| v["objects_ms"].as_array().into_iter().flatten())
        .filter_map(Value::as_f64)
        .collect();
    summarize(&objs).map(|s| s.p95)
}

/// The FastCGI runs of one variant at one loss.
fn fcgi_runs<'a>(r: &'a Records, variant: &str, loss: f64) -> Vec<&'a Value> {
    r.of("fastcgi")
        .filter(|v| v["variant"] == variant && v["loss"].as_f64() == Some(loss))
        .collect()
}

fn small_of(runs: &[&Value]) -> Vec<f64> {
    runs.iter()
        .flat_map(|v| v["small_ms"].as_array().into_iter().flatten())
        .filter_map(Value::as_f64)
        .collect()
}

/// Each run's own p95 of its small requests.
fn per_run_p95(runs: &[&Value]) -> Vec<f64> {
    runs.iter()
        .filter_map(|v| summarize(&small_of(&[*v])).map(|s| s.p95))
        .collect()
}

fn min_max(v: &[f64]) -> Option<(f64, f64)> {
    let s = summarize(v)?;
    Some((s.min, s.max))
}

/// Met when SCTP's pooled p95 is lower and every run of SCTP had a lower
/// p95 than every run of the other; missed when the opposite holds; else
/// the runs overlap and one run cannot tell.
pub fn fcgi_verdict(q: Option<f64>, sctp_runs: &[f64], other_runs: &[f64]) -> &'static str {
    let (Some(q), Some((smin, smax)), Some((omin, omax))) =
        (q, min_max(sctp_runs), min_max(other_runs))
    else {
        return "not measured";
    };
    if q < 1.0 && smax < omin {
        "met"
    } else if q >= 1.0 && smin > omax {
        "missed"
    } else if q < 1.0 {
        "not resolved: lower pooled p95, but the runs' p95s overlap"
    } else {
        "not resolved: higher pooled p95, but the runs' p95s overlap"
    }
}

fn fastcgi_section(r: &Records, md: &mut String, targets: &mut Vec<(String, String, &str)>) {
    let mut losses: Vec<f64> = r.of("fastcgi").filter_map(|v| v["loss"].as_f64()).collect();
    losses.sort_by(f64::total_cmp);
    losses.dedup();
    let count = r
        .of("fastcgi")
        .filter_map(|v| v["small_ms"].as_array().map(Vec::len))
        .max()
        .unwrap_or(0);
    md.push_str(
        "## 6. FastCGI: small requests beside a large response

",
    );
    let _ = write!(
        md,
        "The FastCGI hop itself: `fcgi-bridge request` in the client namespace is the \
         web server's side; `fcgi-bridge backend` in the server namespace listens on SCTP and \
         TCP and forwards each request to php-fpm (pm static) there. The same path as above: \
         20 Mbit/s, 50 ms each way, random loss on both ends. Each run sends one large request \
         (a PHP page of 2 MB) and, as soon as its first bytes arrive, {count} small ones (1 KB \
         pages) at once, all on the same association or connection; a small request's latency \
         runs from its start (its connection's setup included, for a connection per request) \
         to its END_REQUEST. The association or multiplexed connection is opened before the \
         run, as a web server's persistent backend connection would be. Every response is \
         checked (app status 0, status 200, exact body size).\n\n"
    );
    if let Some(env) = r.of("env").skip(1).find(|v| {
        v["scenarios"]
            .as_str()
            .is_some_and(|s| s.contains("fastcgi"))
    }) {
        let f = |k: &str| env[k].as_str().unwrap_or("?").to_string();
        // Only this scenario's repetitions.
        let reps = f("repetitions");
        let reps = reps
            .split("; ")
            .find(|p| p.starts_with("FastCGI"))
            .unwrap_or(&reps)
            .to_string();
        let _ = writeln!(
            md,
            "Measured in a run of its own (`SCTP_BENCH_ONLY=fastcgi`): {}, commit {}, {}; {}.\n",
            f("date"),
            f("commit"),
            f("kernel"),
            reps
        );
    }
    for (k, d) in FCGI_VARIANTS {
        if r.of("fastcgi").any(|v| v["variant"] == *k) {
            let _ = writeln!(md, "- `{k}`: {d}");
        }
    }
    md.push_str(
        "\n| loss | transport | runs | small requests | small p50 ms | small p95 ms | runs' p95 min–max ms | large response median ms | small ones done before the large |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for &loss in &losses {
        for (k, _) in FCGI_VARIANTS {
            let runs = fcgi_runs(r, k, loss);
            if runs.is_empty() {
                continue;
            }
            let small = summarize(&small_of(&runs));
            let large: Vec<f64> = runs.iter().filter_map(|v| v["large_ms"].as_f64()).collect();
            let during: f64 = runs
                .iter()
                .filter_map(|v| v["small_during_large"].as_f64())
                .sum();
            let n = small.as_ref().map_or(0, |s| s.n);
            let spread = min_max(&per_run_p95(&runs)).map_or("—".into(), |(a, b)| {
                format!("{}–{}", fmt_ms(a), fmt_ms(b))
            });
            let _ = writeln!(
                md,
                "| {loss}% | `{k}` | {} | {n} | {} | {} | {spread} | {} | {:.0}% |",
                runs.len(),
                cell(&small, |s| s.median),
                cell(&small, |s| s.p95),
                cell(&summarize(&large), |s| s.median),
                if n > 0 {
                    during / n as f64 * 100.0
                } else {
                    0.0
                },
            );
        }
    }
    md.push_str(
        "\nSCTP divided by each TCP transport, same run (below 1: the small requests finished \
         sooner over SCTP):\n\n| loss | p50 SCTP / TCP mpx | p95 SCTP / TCP mpx | p50 SCTP / TCP per request | p95 SCTP / TCP per request |\n|---|---|---|---|---|\n",
    );
    let pooled = |k: &str, loss: f64| summarize(&small_of(&fcgi_runs(r, k, loss)));
    for &loss in &losses {
        let s = pooled("sctp", loss);
        let q = |k: &str, f: fn(&Summary) -> f64| {
            fmt_ratio(
                s.as_ref()
                    .and_then(|s| pooled(k, loss).and_then(|o| ratio(f(s), f(&o)))),
            )
        };
        let _ = writeln!(
            md,
            "| {loss}% | {} | {} | {} | {} |",
            q("tcp-mpx", |s| s.median),
            q("tcp-mpx", |s| s.p95),
            q("tcp-per-request", |s| s.median),
            q("tcp-per-request", |s| s.p95),
        );
    }
    md.push('\n');
    for &loss in losses.iter().filter(|&&l| l > 0.0) {
        let s = pooled("sctp", loss);
        let sr = per_run_p95(&fcgi_runs(r, "sctp", loss));
        for (k, name) in [
            ("tcp-mpx", "TCP multiplexed"),
            ("tcp-per-request", "TCP per request"),
        ] {
            let o = pooled(k, loss);
            let or = per_run_p95(&fcgi_runs(r, k, loss));
            let q = s
                .as_ref()
                .and_then(|s| o.as_ref().and_then(|o| ratio(s.p95, o.p95)));
            let spread = match (min_max(&sr), min_max(&or)) {
                (Some((a, b)), Some((c, d))) => format!(
                    " (runs' p95: SCTP {}–{} ms, {name} {}–{} ms)",
                    fmt_ms(a),
                    fmt_ms(b),
                    fmt_ms(c),
                    fmt_ms(d)
                ),
                _ => String::new(),
            };
            targets.push((
                format!(
                    "FastCGI at {loss}% loss: p95 of {count} small requests beside a large response, SCTP streams < {name}"
                ),
                format!("{}{spread}", fmt_ratio(q)),
                fcgi_verdict(q, &sr, &or),
            ));
        }
    }
}

/// "Measured in a run of its own ..." for a section whose records came from
/// a later run (`SCTP_BENCH_ONLY`, merged) than the setup table's: that
/// run's date, commit, kernel and the part of its repetitions text that
/// starts with `reps_prefix`.
fn own_run(r: &Records, scenario: &str, reps_prefix: &str) -> Option<String> {
    let env = r.of("env").skip(1).find(|v| {
        v["scenarios"]
            .as_str()
            .is_some_and(|s| s.split_whitespace().any(|w| w == scenario))
    })?;
    let f = |k: &str| env[k].as_str().unwrap_or("?").to_string();
    let reps = f("repetitions");
    // The section's own part of the repetitions text (a run older than the
    // section has none: then nothing of it).
    let reps = reps
        .split("; ")
        .find(|p| p.starts_with(reps_prefix))
        .map_or(String::new(), |p| format!("; {p}"));
    Some(format!(
        "Measured in a run of its own (`SCTP_BENCH_ONLY=\"{}\"`): {}, commit {}, {}{}.\n\n",
        f("scenarios"),
        f("date"),
        f("commit"),
        f("kernel"),
        reps
    ))
}

/// The head-of-line transports (each also measured `-alone`): (key,
/// description).
const HOL_TRANSPORTS: &[(&str, &str)] = &[
    (
        "sctp",
        "SCTP, one association, a stream per request (sctp-http --streams 17; 16 when alone): mod_sctp's concurrent streams",
    ),
    (
        "h2",
        "HTTP/2 on one TCP connection, mod_http2 h2c, a stream per request (nghttp)",
    ),
    (
        "tcp1",
        "HTTP/1.1 pipelined on one TCP connection (sctp-http --tcp): answered in order, so the small requests must wait behind the slow response",
    ),
];

/// The slow responses' keys, as in the records.
const HOL_SLOW: &[&str] = &["cgi", "16mb"];

fn hol_runs<'a>(r: &'a Records, variant: &str, slow: &str) -> Vec<&'a Value> {
    r.of("hol")
        .filter(|v| v["variant"] == variant && v["slow"] == slow)
        .collect()
}

/// What the slow response was, for the tables.
fn hol_slow_desc(r: &Records, slow: &str) -> String {
    match slow {
        "cgi" => {
            let d = r
                .of("hol")
                .find_map(|v| v["delay_s"].as_f64())
                .map_or("a delay".into(), |d| format!("{d} s"));
            format!("a CGI answering after {d}")
        }
        "16mb" => "a 16 MB static file".into(),
        _ => "none (the small requests alone)".into(),
    }
}

/// p95 of the small requests of (variant, slow), pooled over runs.
fn hol_p95(r: &Records, variant: &str, slow: &str) -> Option<f64> {
    summarize(&small_of(&hol_runs(r, variant, slow))).map(|s| s.p95)
}

fn hol_section(r: &Records, md: &mut String, targets: &mut Vec<(String, String, &str)>) {
    md.push_str("## 7. Head-of-line: small requests beside a slow response\n\n");
    md.push_str(
        "Under every MPM but prefork, mod_sctp serves each stream of an association that \
         carries requests concurrently, on a connection of its own \
         (`SCTPMaxConcurrentStreams`). On one association (one TCP connection for the \
         others) the slow response is requested first and 16 small ones \
         (16 × 8 KB static files) at once behind it, each on a stream of its own (HTTP/1.1: \
         pipelined). Two slow responses, each its own cell: a CGI (mod_cgid) that answers 1 KB \
         after a delay, so the server is slow and the path idle; and a 16 MB static file, so the \
         path is busy (20 Mbit/s, shared with the small responses). The `-alone` variants fetch \
         the 16 small files alone on a fresh association or connection: the baseline. The \
         lossless path of section 1 (20 Mbit/s, 50 ms each way); completion times run from the \
         start of the fetch, connection setup included; every object is checked (status 200, \
         exact size). httpd as in section 1 plus mod_cgid, `SCTPInStreams`/`SCTPOutStreams` 32 \
         (17 requests, a stream each) and `SCTPMaxConcurrentStreams` at its default.\n\n",
    );
    if let Some(l) = own_run(r, "hol", "hol") {
        md.push_str(&l);
    }
    for (k, d) in HOL_TRANSPORTS {
        let _ = writeln!(md, "- `{k}`: {d}; `{k}-alone`: the 16 small requests alone");
    }
    md.push_str(
        "\n| slow response | variant | runs | small requests | small p50 ms | small p95 ms | runs' p95 min–max ms | slow response median ms | small p95 vs alone |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for slow in std::iter::once(&"none").chain(HOL_SLOW) {
        for (t, _) in HOL_TRANSPORTS {
            let variant = if *slow == "none" {
                format!("{t}-alone")
            } else {
                t.to_string()
            };
            let runs = hol_runs(r, &variant, slow);
            if runs.is_empty() {
                continue;
            }
            let small = summarize(&small_of(&runs));
            let slow_ms: Vec<f64> = runs.iter().filter_map(|v| v["slow_ms"].as_f64()).collect();
            let spread = min_max(&per_run_p95(&runs)).map_or("—".into(), |(a, b)| {
                format!("{}–{}", fmt_ms(a), fmt_ms(b))
            });
            let vs_alone = if *slow == "none" {
                "—".into()
            } else {
                let alone = hol_p95(r, &format!("{t}-alone"), "none");
                fmt_ratio(
                    small
                        .as_ref()
                        .and_then(|s| alone.and_then(|a| ratio(s.p95, a))),
                )
            };
            let _ = writeln!(
                md,
                "| {} | `{variant}` | {} | {} | {} | {} | {spread} | {} | {vs_alone} |",
                hol_slow_desc(r, slow),
                runs.len(),
                small.as_ref().map_or(0, |s| s.n),
                cell(&small, |s| s.median),
                cell(&small, |s| s.p95),
                cell(&summarize(&slow_ms), |s| s.median),
            );
        }
    }
    md.push_str(
        "\nThe last column is the small requests' p95 beside the slow response divided by \
         their p95 alone, same transport, same run: 1× means the slow response cost them \
         nothing.\n\n",
    );
    for slow in HOL_SLOW {
        let desc = hol_slow_desc(r, slow);
        for (t, name, limit) in [
            ("sctp", "SCTP", Some(1.2)),
            ("h2", "HTTP/2", None),
            ("tcp1", "HTTP/1.1 pipelined", None),
        ] {
            let beside = hol_p95(r, t, slow);
            let alone = hol_p95(r, &format!("{t}-alone"), "none");
            // The comparisons only where measured; SCTP's target always.
            if limit.is_none() && beside.is_none() {
                continue;
            }
            let q = beside.and_then(|b| alone.and_then(|a| ratio(b, a)));
            let measured = match (beside, alone) {
                (Some(b), Some(a)) => {
                    format!("{} ({} against {} ms)", fmt_ratio(q), fmt_ms(b), fmt_ms(a))
                }
                _ => fmt_ratio(q),
            };
            let (target, verdict) = match (limit, t) {
                (Some(l), _) => (format!("{name} ≤ {l}×"), verdict(q, l, true)),
                (None, "tcp1") => (
                    format!("{name}, for comparison"),
                    "no target: answered in order, so it is expected to wait",
                ),
                (None, _) => (format!("{name}, for comparison"), "no target"),
            };
            targets.push((
                format!("head-of-line: small requests' p95 beside {desc} vs alone, {target}"),
                measured,
                verdict,
            ));
        }
    }
}

fn streams_section(r: &Records, md: &mut String) {
    let mut maxes: Vec<u64> = r.of("streams").filter_map(|v| v["max"].as_u64()).collect();
    maxes.sort_unstable();
    maxes.dedup();
    let mut losses: Vec<f64> = r
        .of("streams")
        .filter(|v| v["variant"] == "page")
        .filter_map(|v| v["loss"].as_f64())
        .collect();
    losses.sort_by(f64::total_cmp);
    losses.dedup();
    let has_hol = r.of("streams").any(|v| v["variant"] == "hol");
    let runs = |variant: &str, max: u64, loss: Option<f64>| -> Vec<&Value> {
        r.of("streams")
            .filter(|v| {
                v["variant"] == variant
                    && v["max"].as_u64() == Some(max)
                    && loss.is_none_or(|l| v["loss"].as_f64() == Some(l))
            })
            .collect()
    };
    md.push_str("## 8. Choosing SCTPMaxConcurrentStreams\n\n");
    md.push_str(
        "The same measurements with httpd configured for each value of \
         `SCTPMaxConcurrentStreams` (a configuration per value, httpd restarted between them, \
         the values taking turns within each repetition): the page of section 1 over SCTP (one \
         association, 16 streams, pipelined; 32 objects, object completion times) at each loss \
         rate, and the head-of-line scenario's `sctp` variant with the CGI (section 7: the CGI \
         first, 16 small requests beside it on streams of their own; the small ones' completion \
         times), lossless. Cells are p50 / p95 in ms, pooled over the runs of the cell. With 1, \
         an association's streams are served one at a time.\n\n",
    );
    if let Some(l) = own_run(r, "streams", "streams") {
        md.push_str(&l);
    }
    md.push_str("| SCTPMaxConcurrentStreams | runs |");
    let mut sep = String::from("|---|---|");
    for l in &losses {
        let _ = write!(md, " page at {l}% loss: objects p50 / p95 |");
        sep.push_str("---|");
    }
    if has_hol {
        md.push_str(" beside the CGI: small p50 / p95 | CGI median |");
        sep.push_str("---|---|");
    }
    let _ = writeln!(md, "\n{sep}");
    let pair = |s: &Option<Summary>| match s {
        Some(s) => format!("{} / {}", fmt_ms(s.median), fmt_ms(s.p95)),
        None => "—".into(),
    };
    for &m in &maxes {
        let n = losses
            .iter()
            .map(|&l| runs("page", m, Some(l)).len())
            .chain(has_hol.then(|| runs("hol", m, None).len()))
            .min()
            .unwrap_or(0);
        let _ = write!(md, "| {m} | {n} |");
        for &l in &losses {
            let objs: Vec<f64> = runs("page", m, Some(l))
                .iter()
                .flat_map(|v| v["objects_ms"].as_array().into_iter().flatten())
                .filter_map(Value::as_f64)
                .collect();
            let _ = write!(md, " {} |", pair(&summarize(&objs)));
        }
        if has_hol {
            let h = runs("hol", m, None);
            let slow: Vec<f64> = h.iter().filter_map(|v| v["slow_ms"].as_f64()).collect();
            let _ = write!(
                md,
                " {} | {} |",
                pair(&summarize(&small_of(&h))),
                cell(&summarize(&slow), |s| s.median)
            );
        }
        md.push('\n');
    }
    md.push_str(
        "\nThe runs column is the fewest runs of any cell in the row. No target: this table is \
         for choosing the default.\n\n",
    );
}

/// Records of `from` (one run, perhaps of some scenarios only) merged into
/// `into` (the committed run): `into`'s records of every scenario that
/// `from` measured are dropped (with their failures, and an earlier env
/// record of the same scenario list), the rest kept, `from`'s appended.
pub fn merge(into: &str, from: &str) -> Result<String, String> {
    // Lines are kept as they were written.
    let parse = |text: &'_ str, what: &str| -> Result<Vec<(Value, String)>, String> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map(|v| (v, l.to_string()))
                    .map_err(|e| format!("{what} {}: {e}", i + 1))
            })
            .collect()
    };
    let (old, new) = (parse(into, "into")?, parse(from, "from")?);
    let scenarios = new
        .iter()
        .find(|(v, _)| v["s"] == "env")
        .and_then(|(v, _)| v["scenarios"].as_str());
    // The kinds `from` measured: its records' kinds, and the scenarios its
    // env record lists (a scenario whose every run failed has no records).
    let kinds: Vec<&str> = new
        .iter()
        .filter_map(|(v, _)| v["s"].as_str())
        .filter(|s| *s != "env" && *s != "fail")
        .chain(scenarios.unwrap_or("").split_whitespace())
        .collect();
    // A failure names its scenario first: "fastcgi sctp rep 1: ...",
    // "adu-run: ...".
    let fail_of = |what: &str, kind: &str| {
        let head = what.split([' ', ':']).next().unwrap_or("");
        head == kind
            || head
                .strip_prefix(kind)
                .is_some_and(|rest| rest.starts_with('-'))
    };
    let mut out = String::new();
    for (v, line) in &old {
        let s = v["s"].as_str().unwrap_or("");
        let drop = kinds.contains(&s)
            || (s == "env" && scenarios.is_some() && v["scenarios"].as_str() == scenarios)
            || (s == "fail"
                && v["what"]
                    .as_str()
                    .is_some_and(|w| kinds.iter().any(|k| fail_of(w, k))));
        if !drop {
            out.push_str(line);
            out.push('\n');
        }
    }
    for (_, line) in &new {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_section_and_the_targets() {
        let mut rec = String::from("{\"s\":\"env\",\"kernel\":\"6.1 UML\"}\n");
        for rep in 0..3 {
            for (v, base) in [
                ("sctp", 100.0),
                ("sctp-rto200", 90.0),
                ("tcp1", 200.0),
                ("h2", 150.0),
                ("h3", 120.0),
                ("h3-newreno", 130.0),
            ] {
                for loss in [0, 1] {
                    let o: Vec<f64> = (0..32).map(|i| base + i as f64 + rep as f64).collect();
                    let _ = writeln!(
                        rec,
                        "{}",
                        serde_json::json!({"s":"page","variant":v,"loss":loss,"rep":rep,"page_ms":base+31.0,"objects_ms":o})
                    );
                }
            }
            for (v, secs) in [("pump", 1.0), ("mod_sctp", 1.25), ("tcp", 0.8)] {
                let _ = writeln!(rec, "{{\"s\":\"bulk\",\"variant\":\"{v}\",\"rep\":{rep},\"bytes\":268435456,\"secs\":{secs}}}");
            }
            for (v, rps) in [("sctp", 900.0), ("tcp", 1000.0), ("wrk", 1100.0)] {
                let _ = writeln!(rec, "{{\"s\":\"rate\",\"variant\":\"{v}\",\"rep\":{rep},\"rps\":{rps},\"p50_ms\":1.0,\"p99_ms\":null}}");
            }
            for (v, rps) in [("with", 995.0), ("without", 1000.0)] {
                let _ = writeln!(
                    rec,
                    "{{\"s\":\"modload\",\"variant\":\"{v}\",\"rep\":{rep},\"rps\":{rps}}}"
                );
            }
        }
        rec.push_str("{\"s\":\"page_udp\",\"client_rcvbuf_errors\":0,\"client_sndbuf_errors\":0,\"server_rcvbuf_errors\":2,\"server_sndbuf_errors\":0}\n");
        rec.push_str("{\"s\":\"mem\",\"variant\":\"sctp\",\"conns\":1000,\"held\":1000,\"rss_kb_base\":10240,\"rss_kb\":20480,\"pss_kb_base\":8192,\"pss_kb\":16384,\"slab_kb_base\":1000,\"slab_kb\":5000}\n");
        let files = render(&rec, "## Why\n\nbecause\n").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "RESULTS.md",
                "page-object-p95.svg",
                "page-median.svg",
                "bulk.svg",
                "rate.svg"
            ]
        );
        let md = &files[0].1;
        for want in [
            "| kernel | 6.1 UML |",
            "## Targets at a glance",
            "SCTP ≤ 0.7× TCP pipelined | 0.57× | met",
            "| 1.00× | **8845** | 1474 |\n| 1% | `sctp-rto200` |",
            "| **8869** | 1478 |\n| 1% | `h2` |",
            "| 1.00× | **no limit** | no limit |\n| 0% | `sctp-rto200` |",
            "1.57 MB",
            "at 1% loss: best SCTP variant (`sctp-rto200`) ≤ 0.9× HTTP/3 (`h3`) | 0.80× | met",
            "- `h3-newreno`: the same with quinn's NewReno",
            "`h3` and `h3-newreno` are the modern answer",
            "| 1% | `h3` | 3 |",
            "socket buffer during the page runs (`h3`, `h3-newreno`; /proc/net/snmp RcvbufErrors, SndbufErrors): client 0 and 0, server 2 and 0.",
            "mod_sctp ≥ 0.9× plain SCTP pump | 0.80× | missed",
            "request rate: SCTP ≥ 0.8× TCP | 0.90× | met",
            "≤ 1% difference in TCP req/s | -0.5% (runs spread ±0%) | met",
            "| 1000 sctp | 1000 | 10.0 → 20.0 | 8.0 → 16.0 | 8.2 | 4.0 |",
            "None: every object",
            "because",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        assert!(md.find("## Targets").unwrap() < md.find("## 1.").unwrap());
        // Without HTTP/3 in the records its target row is not measured.
        let no_h3: String = rec
            .lines()
            .filter(|l| !l.contains("\"h3"))
            .map(|l| format!("{l}\n"))
            .collect();
        let md = &render(&no_h3, "").unwrap()[0].1;
        assert!(
            md.contains(
                "best SCTP variant (`sctp-rto200`) ≤ 0.9× HTTP/3 (`h3`) | — | not measured"
            ),
            "{md}"
        );
        assert!(!md.contains("`h3` and `h3-newreno` are"));
        let bad = render(
            &format!("{rec}{{\"s\":\"fail\",\"what\":\"page sctp rep 3: /a: 9 bytes\"}}\n"),
            "",
        )
        .unwrap();
        assert!(bad[0].1.contains("- page sctp rep 3: /a: 9 bytes"));
        assert!(render("not json\n", "").is_err());
    }

    fn fcgi_records(rec: &mut String, variant: &str, loss: u32, base: f64) {
        for rep in 0..3 {
            let small: Vec<f64> = (0..64)
                .map(|i| base + i as f64 + rep as f64 * 10.0)
                .collect();
            let _ = writeln!(
                rec,
                "{}",
                serde_json::json!({"s":"fastcgi","variant":variant,"loss":loss,"rep":rep,
                    "small_ms":small,"large_ms":5000.0,"large_first_ms":200.0,"small_during_large":32})
            );
        }
    }

    #[test]
    fn fastcgi_section_ratios_and_verdicts() {
        let mut rec = String::from("{\"s\":\"env\",\"kernel\":\"full\"}\n");
        rec.push_str("{\"s\":\"env\",\"scenarios\":\"fastcgi\",\"date\":\"D\",\"commit\":\"C\",\"kernel\":\"K\",\"repetitions\":\"R\"}\n");
        fcgi_records(&mut rec, "sctp", 1, 100.0);
        fcgi_records(&mut rec, "tcp-mpx", 1, 1000.0);
        fcgi_records(&mut rec, "tcp-per-request", 1, 120.0);
        let md = &render(&rec, "").unwrap()[0].1;
        for want in [
            "## 6. FastCGI",
            "Measured in a run of its own (`SCTP_BENCH_ONLY=fastcgi`): D, commit C, K; R.",
            "Some sections were measured in a run of their own",
            "| 1% | `sctp` | 3 | 192 | 142 | 173 | 160–180 | 5000 | 50% |",
            "| 1% | `tcp-mpx` | 3 | 192 | 1042 | 1073 | ",
            "| 5000 | 50% |",
            "| 1% | 0.14× | 0.16× | 0.88× | 0.90× |",
            "SCTP streams < TCP multiplexed | 0.16× (runs' p95: SCTP 160–180 ms, TCP multiplexed 1060–1080 ms) | met",
            "SCTP streams < TCP per request | 0.90× (runs' p95: SCTP 160–180 ms, TCP per request 180–200 ms) | not resolved: lower pooled p95",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        assert_eq!(fcgi_verdict(Some(1.2), &[5.0, 6.0], &[3.0, 4.0]), "missed");
        assert_eq!(fcgi_verdict(None, &[5.0], &[3.0]), "not measured");
        assert_eq!(fcgi_verdict(Some(0.5), &[], &[3.0]), "not measured");
        assert!(
            fcgi_verdict(Some(1.1), &[3.0, 6.0], &[4.0, 5.0]).starts_with("not resolved: higher")
        );
    }

    fn hol_record(rec: &mut String, variant: &str, slow: &str, rep: u32, base: f64) {
        let small: Vec<f64> = (0..16).map(|i| base + i as f64 + rep as f64).collect();
        let mut v = serde_json::json!({"s":"hol","variant":variant,"slow":slow,"rep":rep,
            "small_ms":small,"slow_ms":if slow == "none" { None } else { Some(2100.0) }});
        if slow == "cgi" {
            v["delay_s"] = serde_json::json!(2);
        }
        let _ = writeln!(rec, "{v}");
    }

    #[test]
    fn hol_section_ratios_and_targets() {
        let mut rec = String::from("{\"s\":\"env\",\"kernel\":\"full\"}\n");
        rec.push_str("{\"s\":\"env\",\"scenarios\":\"hol streams\",\"date\":\"D\",\"commit\":\"C\",\"kernel\":\"K\",\"repetitions\":\"page 20 per cell; hol 3 per cell (x); streams 3 per cell (y)\"}\n");
        for rep in 0..3 {
            // Alone: p95 of 100..115 (+rep) pooled; beside the CGI: SCTP
            // the same (1×), h2 +10 ms, tcp1 behind the CGI (+2000 ms).
            for t in ["sctp", "h2", "tcp1"] {
                hol_record(&mut rec, &format!("{t}-alone"), "none", rep, 100.0);
            }
            hol_record(&mut rec, "sctp", "cgi", rep, 100.0);
            hol_record(&mut rec, "h2", "cgi", rep, 110.0);
            hol_record(&mut rec, "tcp1", "cgi", rep, 2100.0);
            hol_record(&mut rec, "sctp", "16mb", rep, 300.0);
        }
        let md = &render(&rec, "").unwrap()[0].1;
        for want in [
            "## 7. Head-of-line",
            "Measured in a run of its own (`SCTP_BENCH_ONLY=\"hol streams\"`): D, commit C, K; hol 3 per cell (x).",
            "| none (the small requests alone) | `sctp-alone` | 3 | 48 | 108 | 116 | 114–116 | — | — |",
            "| a CGI answering after 2 s | `sctp` | 3 | 48 | 108 | 116 | 114–116 | 2100 | 1.00× |",
            "| a CGI answering after 2 s | `h2` | 3 | 48 | 118 | 126 | 124–126 | 2100 | 1.09× |",
            "| a CGI answering after 2 s | `tcp1` | 3 | 48 | 2108 | 2116 | 2114–2116 | 2100 | 18.29× |",
            "| a 16 MB static file | `sctp` | 3 | 48 | 308 | 316 | 314–316 | 2100 | 2.73× |",
            "beside a CGI answering after 2 s vs alone, SCTP ≤ 1.2× | 1.00× (116 against 116 ms) | met",
            "beside a CGI answering after 2 s vs alone, HTTP/2, for comparison | 1.09× (126 against 116 ms) | no target |",
            "beside a CGI answering after 2 s vs alone, HTTP/1.1 pipelined, for comparison | 18.29× (2116 against 116 ms) | no target: answered in order, so it is expected to wait |",
            "beside a 16 MB static file vs alone, SCTP ≤ 1.2× | 2.73× (316 against 116 ms) | missed",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        // No 16 MB cell for h2 or tcp1: no row in either table (their
        // baselines alone give no comparison).
        assert!(!md.contains("| a 16 MB static file | `h2`"));
        assert!(!md.contains("beside a 16 MB static file vs alone, HTTP/2"));
        assert!(!md.contains("beside a 16 MB static file vs alone, HTTP/1.1"));
        // Without the SCTP cell (the only 16 MB one), its target says so.
        let no_sctp: String = rec
            .lines()
            .filter(|l| !l.contains("\"slow\":\"16mb\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let md = &render(&no_sctp, "").unwrap()[0].1;
        assert!(
            md.contains("beside a 16 MB static file vs alone, SCTP ≤ 1.2× | — | not measured |")
        );
    }

    #[test]
    fn streams_section_table() {
        let mut rec = String::from("{\"s\":\"env\",\"kernel\":\"full\"}\n");
        for max in [1, 8] {
            for rep in 0..2 {
                for loss in [0, 1] {
                    let o: Vec<f64> = (0..32)
                        .map(|i| 1000.0 * (loss as f64 + 1.0) + i as f64 * max as f64)
                        .collect();
                    let _ = writeln!(
                        rec,
                        "{}",
                        serde_json::json!({"s":"streams","variant":"page","max":max,"loss":loss,
                            "rep":rep,"page_ms":2000.0,"objects_ms":o})
                    );
                }
                let small: Vec<f64> = (0..16).map(|i| 2200.0 / max as f64 + i as f64).collect();
                let _ = writeln!(
                    rec,
                    "{}",
                    serde_json::json!({"s":"streams","variant":"hol","max":max,"loss":0,
                        "rep":rep,"small_ms":small,"slow_ms":2050.0})
                );
            }
        }
        // One page run too few at 1% for max 8.
        let rec: String = rec
            .lines()
            .filter(|l| {
                !(l.contains("\"max\":8") && l.contains("\"loss\":1") && l.contains("\"rep\":1"))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let md = &render(&rec, "").unwrap()[0].1;
        for want in [
            "## 8. Choosing SCTPMaxConcurrentStreams",
            "| SCTPMaxConcurrentStreams | runs | page at 0% loss: objects p50 / p95 | page at 1% loss: objects p50 / p95 | beside the CGI: small p50 / p95 | CGI median |",
            "|---|---|---|---|---|---|",
            "| 1 | 2 | 1016 / 1030 | 2016 / 2030 | 2208 / 2214 | 2050 |",
            "| 8 | 1 | 1124 / 1239 | 2124 / 2236 | 282 / 289 | 2050 |",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        assert!(!md.contains("## 7."), "no hol records, no section 7");
        assert!(!md.contains("Measured in a run of its own"));
    }

    #[test]
    fn merging_keeps_the_other_scenarios() {
        let old = "{\"s\":\"env\",\"date\":\"full\"}\n{\"s\":\"page\",\"variant\":\"sctp\"}\n\
                   {\"s\":\"env\",\"scenarios\":\"fastcgi\",\"date\":\"old\"}\n\
                   {\"s\":\"fastcgi\",\"variant\":\"sctp\",\"rep\":1}\n\
                   {\"s\":\"fail\",\"what\":\"fastcgi sctp rep 1: x\"}\n{\"s\":\"fail\",\"what\":\"page sctp rep 2: y\"}\n";
        let new = "{\"s\":\"env\",\"scenarios\":\"fastcgi\",\"date\":\"new\"}\n{\"s\":\"fastcgi\",\"variant\":\"tcp-mpx\",\"rep\":1}\n";
        let m = merge(old, new).unwrap();
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines.len(), 5, "{m}");
        assert!(m.contains("\"date\":\"full\"") && m.contains("\"page\""));
        assert!(m.contains("page sctp rep 2") && !m.contains("fastcgi sctp rep 1"));
        assert!(!m.contains("\"old\"") && !m.contains("\"variant\":\"sctp\",\"rep\":1"));
        assert!(lines[3].contains("\"new\"") && lines[4].contains("tcp-mpx"));
        assert_eq!(
            lines[1], "{\"s\":\"page\",\"variant\":\"sctp\"}",
            "kept as written"
        );
        assert!(merge("nope\n", new).is_err());
    }

    #[test]
    fn merging_drops_the_measured_scenarios_failures_by_their_first_word() {
        let old = "{\"s\":\"adu\",\"case\":\"old\"}\n\
                   {\"s\":\"fail\",\"what\":\"adu-run: bind: Address already in use\"}\n\
                   {\"s\":\"fail\",\"what\":\"aduX: kept\"}\n\
                   {\"s\":\"fail\",\"what\":\"bulk sctp: sha256 a, want b\"}\n\
                   {\"s\":\"fail\",\"what\":\"mem tcp: kept\"}\n";
        // Every run of "bulk" failed this time: no bulk records, but the env
        // record says it was measured.
        let new = "{\"s\":\"env\",\"scenarios\":\"adu bulk\"}\n{\"s\":\"adu\",\"case\":\"new\"}\n";
        let m = merge(old, new).unwrap();
        assert!(
            !m.contains("adu-run") && !m.contains("\"old\"") && !m.contains("sha256"),
            "{m}"
        );
        assert!(
            m.contains("aduX: kept") && m.contains("mem tcp: kept") && m.contains("\"new\""),
            "{m}"
        );
    }
}
