//! `sctp-bench`: the benchmark tools that bench/run calls.
//!
//!   sctp-bench pump-serve ADDR:PORT [--msg BYTES]
//!   sctp-bench pump-get ADDR:PORT --bytes N
//!   sctp-bench h3-serve ADDR:PORT --root DIR [--cc cubic|newreno] [--no-warmup]
//!   sctp-bench h3-get [--cc cubic|newreno] [--json] [--timeout SECS] [--no-warmup] URL...
//!   sctp-bench record page --variant V --loss PCT --rep N --page FILE --from sctp-http|nghttp|h3-get
//!   sctp-bench record rate --scenario rate|modload --variant V --rep N --from sctp-http|wrk|h2load
//!   sctp-bench record bulk --variant V --rep N --bytes N --from sctp-http|pump
//!   sctp-bench record fastcgi --variant V --loss PCT --rep N --small-bytes N
//!                             --large-bytes N --count N --from fcgi-bridge
//!   sctp-bench record hol --variant V --slow cgi|16mb|none [--delay SECS] --rep N
//!                         --page FILE --from sctp-http|nghttp
//!   sctp-bench record streams --variant page|hol --max N --loss PCT --rep N
//!                             --page FILE --from sctp-http
//!   sctp-bench record adu-page --variant high|normal --loss PCT --rep N --page FILE
//!                              --critical PATH --from sctp-http
//!   sctp-bench adu-run --case priority|realtime --variant V --loss PCT --rep N
//!                      --server-ns NS --client-ns NS --server ADDR:PORT
//!   sctp-bench report RECORDS.jsonl OUTDIR [NOTES.md]
//!   sctp-bench merge INTO.jsonl FROM.jsonl   (FROM's scenarios replace INTO's)
//!
//! `record` reads a client's output on stdin and prints one JSON record; a
//! wrong transfer prints a {"s":"fail"} record and exits 1.

mod adu;
mod h3;
mod pump;

use sctp_bench::{records, report};
use serde_json::json;
use std::collections::HashMap;
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("pump-serve") => pump::serve(&args[1..]),
        Some("pump-get") => pump::get(&args[1..]),
        Some("h3-serve") => h3::serve(&args[1..]),
        Some("h3-get") => h3::get(&args[1..]),
        Some("record") => record(&args[1..]),
        Some("adu-run") => adu_run(&args[1..]),
        Some("report") => report_cmd(&args[1..]),
        Some("merge") => merge_cmd(&args[1..]),
        _ => Err(
            "usage: sctp-bench pump-serve|pump-get|h3-serve|h3-get|record|adu-run|report|merge ... (see src/main.rs)"
                .into(),
        ),
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
fn adu_run(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    match adu::run(&o) {
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

/// `--name value` pairs after the first word.
fn options(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let k = a
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected '{a}'"))?;
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        m.insert(k.to_string(), v.clone());
    }
    Ok(m)
}

fn need<'a>(o: &'a HashMap<String, String>, k: &str) -> Result<&'a str, String> {
    o.get(k)
        .map(String::as_str)
        .ok_or_else(|| format!("--{k} is required"))
}

fn num(o: &HashMap<String, String>, k: &str) -> Result<f64, String> {
    need(o, k)?
        .parse()
        .map_err(|_| format!("--{k}: not a number"))
}

fn record(args: &[String]) -> Result<(), String> {
    let kind = args
        .first()
        .ok_or("record: page, rate, bulk, fastcgi, hol or streams")?;
    let o = options(&args[1..])?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| e.to_string())?;
    let variant = need(&o, "variant")?;
    let rep = num(&o, "rep")? as u64;
    let from = need(&o, "from")?;
    let r: Result<serde_json::Value, String> = match kind.as_str() {
        "page" => {
            let list = std::fs::read_to_string(need(&o, "page")?).map_err(|e| e.to_string())?;
            let page = records::parse_page_list(&list)?;
            let loss = num(&o, "loss")?;
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
            let scenario = need(&o, "scenario")?;
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
            let want = num(&o, "bytes")? as u64;
            records::bulk(&input, from, want).map(|(bytes, secs)| {
                json!({"s": "bulk", "variant": variant, "rep": rep, "bytes": bytes, "secs": secs})
            })
        }
        "fastcgi" => {
            if from != "fcgi-bridge" {
                return Err(format!("--from {from}?"));
            }
            let loss = num(&o, "loss")?;
            records::fastcgi_mix(
                &input,
                num(&o, "small-bytes")? as u64,
                num(&o, "large-bytes")? as u64,
                num(&o, "count")? as usize,
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
            let list = std::fs::read_to_string(need(&o, "page")?).map_err(|e| e.to_string())?;
            let list = records::parse_page_list(&list)?;
            let slow = need(&o, "slow")?;
            if !["cgi", "16mb", "none"].contains(&slow) {
                return Err(format!("--slow {slow}?"));
            }
            let delay = o.get("delay").map(|_| num(&o, "delay")).transpose()?;
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
            let list = std::fs::read_to_string(need(&o, "page")?).map_err(|e| e.to_string())?;
            let list = records::parse_page_list(&list)?;
            let (max, loss) = (num(&o, "max")? as u64, num(&o, "loss")?);
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
            let text = std::fs::read_to_string(need(&o, "page")?).map_err(|e| e.to_string())?;
            let list = records::parse_page_list(&text)?;
            let critical = need(&o, "critical")?;
            let at = list
                .iter()
                .position(|(p, _)| p == critical)
                .ok_or_else(|| format!("--critical {critical}: not on the page"))?;
            if from != "sctp-http" {
                return Err(format!("--from {from}?"));
            }
            let loss = num(&o, "loss")?;
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

fn report_cmd(args: &[String]) -> Result<(), String> {
    let [records, outdir, rest @ ..] = args else {
        return Err("report RECORDS.jsonl OUTDIR [NOTES.md]".into());
    };
    let text = std::fs::read_to_string(records).map_err(|e| format!("{records}: {e}"))?;
    let notes = match rest.first() {
        Some(n) => std::fs::read_to_string(n).map_err(|e| format!("{n}: {e}"))?,
        None => String::new(),
    };
    let out = report::render(&text, &notes)?;
    std::fs::create_dir_all(outdir).map_err(|e| e.to_string())?;
    for (name, body) in out {
        let p = std::path::Path::new(outdir).join(&name);
        std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("sctp-bench: wrote {}", p.display());
    }
    Ok(())
}

fn merge_cmd(args: &[String]) -> Result<(), String> {
    let [into, from] = args else {
        return Err("merge INTO.jsonl FROM.jsonl".into());
    };
    let old = std::fs::read_to_string(into).map_err(|e| format!("{into}: {e}"))?;
    let new = std::fs::read_to_string(from).map_err(|e| format!("{from}: {e}"))?;
    let merged = report::merge(&old, &new)?;
    std::fs::write(into, merged).map_err(|e| format!("{into}: {e}"))?;
    eprintln!("sctp-bench: merged {from} into {into}");
    Ok(())
}
