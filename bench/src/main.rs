//! `sctp-bench`: the benchmark tools that bench/run calls (`--help` lists
//! them; the command line is `cli.rs`'s).
//!
//! `record` reads a client's output on stdin and prints one JSON record; a
//! wrong transfer prints a {"s":"fail"} record and exits 1.

mod adu;
mod cli;
mod h3;
mod pump;

use sctp_bench::{records, report};
use serde_json::json;
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    use clap::Parser;
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version exit 0, usage errors 2 (clap's).
            e.exit();
        }
    };
    let r = match &cli.command {
        cli::Command::PumpServe(o) => pump::serve(o),
        cli::Command::PumpGet(o) => pump::get(o),
        cli::Command::H3Serve(o) => h3::serve(o),
        cli::Command::H3Get(o) => h3::get(o),
        cli::Command::Record(o) => record(o),
        cli::Command::AduRun(o) => adu_run(o),
        cli::Command::Report(o) => report_cmd(o),
        cli::Command::Merge(o) => merge_cmd(o),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sctp-bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// `adu-run`: one record of the ADU scenario on stdout; a failed run
/// prints a {"s":"fail"} record and fails.
fn adu_run(o: &cli::AduRun) -> Result<(), String> {
    match adu::run(o) {
        Ok(v) => {
            println!("{v}");
            Ok(())
        }
        Err(e) => {
            println!("{}", json!({"s": "fail", "what": format!("adu-run: {e}")}));
            Err(e)
        }
    }
}

fn record(o: &cli::Record) -> Result<(), String> {
    use cli::Record as R;
    let kind = &o.kind;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| e.to_string())?;
    let variant = o.variant.as_str();
    let rep = o.rep;
    let from = o.from.as_str();
    let page_list = || -> Result<Vec<(String, u64)>, String> {
        let path = R::need(&o.page, "page")?;
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        records::parse_page_list(&text)
    };
    let loss = || R::need(&o.loss, "loss");
    let r: Result<serde_json::Value, String> = match kind.as_str() {
        "page" => {
            let page = page_list()?;
            let loss = loss()?;
            match from {
                // h3-get prints sctp-http get --json's lines.
                "sctp-http" | "h3-get" => records::page_from_sctp_http(&input, &page),
                "nghttp" => records::page_from_nghttp(&input, &page),
                f => return Err(format!("--from {f}?")),
            }
            .map(|p| {
                let bytes: u64 = page.iter().map(|o| o.1).sum();
                let mut v = json!({"s": "page", "variant": variant, "loss": loss, "rep": rep,
                                   "page_bytes": bytes, "page_ms": p.page_ms, "objects_ms": p.objects_ms});
                // The client's QUIC counters (packets it sent and lost, RTT).
                if let Some(q) = records::quic_counters(&input).filter(|_| from == "h3-get") {
                    v["quic"] = q;
                }
                v
            })
        }
        "rate" => {
            let scenario = R::need(&o.scenario, "scenario")?;
            match from {
                "sctp-http" => records::rate_from_sctp_http(&input),
                "wrk" => records::rate_from_wrk(&input),
                "h2load" => records::rate_from_h2load(&input),
                f => return Err(format!("--from {f}?")),
            }
            .map(|r| {
                json!({"s": scenario, "variant": variant, "rep": rep, "rps": r.rps,
                       "p50_ms": r.p50_ms, "p99_ms": r.p99_ms})
            })
        }
        "bulk" => {
            let want = R::need(&o.bytes, "bytes")?;
            records::bulk(&input, from, want).map(|(bytes, secs)| {
                json!({"s": "bulk", "variant": variant, "rep": rep, "bytes": bytes, "secs": secs})
            })
        }
        "fastcgi" => {
            if from != "fcgi-bridge" {
                return Err(format!("--from {from}?"));
            }
            let loss = loss()?;
            records::fastcgi_mix(
                &input,
                R::need(&o.small_bytes, "small-bytes")?,
                R::need(&o.large_bytes, "large-bytes")?,
                R::need(&o.count, "count")?,
            )
            .map(|f| {
                json!({"s": "fastcgi", "variant": variant, "loss": loss, "rep": rep,
                       "small_ms": f.small_ms, "large_ms": f.large_ms,
                       "large_first_ms": f.large_first_ms,
                       "small_during_large": f.small_during_large})
            })
        }
        "hol" => {
            // The list (--page): the slow response first, unless --slow none.
            let list = page_list()?;
            let slow = R::need(&o.slow, "slow")?;
            let slow = slow.as_str();
            if !["cgi", "16mb", "none"].contains(&slow) {
                return Err(format!("--slow {slow}?"));
            }
            let delay = o.delay;
            match from {
                "sctp-http" => records::page_from_sctp_http(&input, &list),
                "nghttp" => records::page_from_nghttp(&input, &list),
                f => return Err(format!("--from {f}?")),
            }
            .and_then(|p| records::hol_split(p, slow != "none"))
            .map(|h| {
                let mut v = json!({"s": "hol", "variant": variant, "slow": slow, "rep": rep,
                                   "small_ms": h.small_ms, "slow_ms": h.slow_ms});
                if let (Some(d), "cgi") = (delay, slow) {
                    v["delay_s"] = json!(d);
                }
                v
            })
        }
        "streams" => {
            let list = page_list()?;
            let (max, loss) = (R::need(&o.max, "max")?, loss()?);
            if from != "sctp-http" {
                return Err(format!("--from {from}?"));
            }
            let p = records::page_from_sctp_http(&input, &list);
            match variant {
                "page" => p.map(|p| {
                    json!({"s": "streams", "variant": variant, "max": max, "loss": loss,
                           "rep": rep, "page_ms": p.page_ms, "objects_ms": p.objects_ms})
                }),
                "hol" => p.and_then(|p| records::hol_split(p, true)).map(|h| {
                    json!({"s": "streams", "variant": variant, "max": max, "loss": loss,
                           "rep": rep, "small_ms": h.small_ms, "slow_ms": h.slow_ms})
                }),
                v => return Err(format!("--variant {v}? (page or hol)")),
            }
        }
        // The page with one critical object (section 9): its completion
        // time apart.
        "adu-page" => {
            let list = page_list()?;
            let critical = R::need(&o.critical, "critical")?;
            let critical = critical.as_str();
            let at = list
                .iter()
                .position(|(p, _)| p == critical)
                .ok_or_else(|| format!("--critical {critical}: not on the page"))?;
            if from != "sctp-http" {
                return Err(format!("--from {from}?"));
            }
            let loss = loss()?;
            records::page_from_sctp_http(&input, &list).map(|p| {
                json!({"s": "adu", "case": "page", "variant": variant, "loss": loss, "rep": rep,
                       "critical": critical, "critical_ms": p.objects_ms[at],
                       "page_ms": p.page_ms, "objects_ms": p.objects_ms})
            })
        }
        k => return Err(format!("record {k}?")),
    };
    match r {
        Ok(v) => {
            println!("{v}");
            Ok(())
        }
        Err(e) => {
            let what = format!("{kind} {variant} rep {rep}: {e}");
            println!("{}", json!({"s": "fail", "what": what}));
            Err(what)
        }
    }
}

fn report_cmd(o: &cli::Report) -> Result<(), String> {
    let (records, outdir) = (&o.records, &o.outdir);
    let text =
        std::fs::read_to_string(records).map_err(|e| format!("{}: {e}", records.display()))?;
    let notes = match &o.notes {
        Some(n) => std::fs::read_to_string(n).map_err(|e| format!("{}: {e}", n.display()))?,
        None => String::new(),
    };
    let out = report::render(&text, &notes)?;
    std::fs::create_dir_all(outdir).map_err(|e| e.to_string())?;
    for (name, body) in out {
        let p = outdir.join(&name);
        std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("sctp-bench: wrote {}", p.display());
    }
    Ok(())
}

fn merge_cmd(o: &cli::Merge) -> Result<(), String> {
    let (into, from) = (&o.into, &o.from);
    let old = std::fs::read_to_string(into).map_err(|e| format!("{}: {e}", into.display()))?;
    let new = std::fs::read_to_string(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let merged = report::merge(&old, &new)?;
    std::fs::write(into, merged).map_err(|e| format!("{}: {e}", into.display()))?;
    eprintln!(
        "sctp-bench: merged {} into {}",
        from.display(),
        into.display()
    );
    Ok(())
}
