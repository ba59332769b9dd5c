//! `sctp-bench`'s command line (clap): the tools bench/run calls. The
//! checks a subcommand makes of its options beyond their syntax (which
//! `record` kinds need which options) stay with the subcommand.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

use sctp_bench::h3plan::Cc;

/// The benchmark tools that bench/run calls (docs/bench, bench/README.md).
#[derive(Parser, Debug)]
#[command(name = "sctp-bench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Plain SCTP sender: sends N bytes to each association that asks
    PumpServe(PumpServe),
    /// Plain SCTP receiver: asks the pump for N bytes, prints bytes and secs
    PumpGet(PumpGet),
    /// HTTP/3 static server (quinn, rustls on ring) for the page's h3 variants
    H3Serve(H3Serve),
    /// HTTP/3 client: fetches the URLs on one connection, one line per object
    H3Get(H3Get),
    /// One JSON record from a client's output on stdin (exit 1 on a wrong
    /// transfer, after printing a {"s":"fail"} record)
    Record(Record),
    /// One run of the ADU scenario between two network namespaces
    AduRun(AduRun),
    /// docs/bench/RESULTS.md and its plots from the records
    Report(Report),
    /// FROM's scenarios replace INTO's records
    Merge(Merge),
}

#[derive(Args, Debug)]
pub struct PumpServe {
    pub addr: SocketAddr,
    /// bytes per message
    #[arg(long, default_value_t = 32768)]
    pub msg: usize,
    /// SO_SNDBUF of the listener (0: the kernel's)
    #[arg(long, default_value_t = 0)]
    pub sndbuf: usize,
}

#[derive(Args, Debug)]
pub struct PumpGet {
    pub addr: SocketAddr,
    /// bytes to ask for
    #[arg(long, default_value_t = 0)]
    pub bytes: u64,
    /// SCTP_DELAYED_SACK sack_freq (0: the kernel's)
    #[arg(long, default_value_t = 0)]
    pub sack_freq: u32,
}

#[derive(Args, Debug)]
pub struct H3Serve {
    pub addr: SocketAddr,
    /// the files served
    #[arg(long)]
    pub root: PathBuf,
    /// congestion control: cubic or newreno
    #[arg(long, default_value = "cubic", value_parser = Cc::parse)]
    pub cc: Cc,
    /// no untimed fetch from itself first (see bench/README.md on UML)
    #[arg(long)]
    pub no_warmup: bool,
}

#[derive(Args, Debug)]
pub struct H3Get {
    /// congestion control: cubic or newreno
    #[arg(long, default_value = "cubic", value_parser = Cc::parse)]
    pub cc: Cc,
    /// one JSON line per object, in sctp-http get --json's shape
    #[arg(long)]
    pub json: bool,
    /// seconds for the whole fetch
    #[arg(long, default_value_t = 60.0, value_parser = positive_secs)]
    pub timeout: f64,
    /// no untimed fetch first
    #[arg(long)]
    pub no_warmup: bool,
    #[arg(required = true)]
    pub urls: Vec<String>,
}

/// `record KIND --option value ...`: every kind takes --variant, --rep and
/// --from; the others as the kind needs (`record` says which is missing).
#[derive(Args, Debug, Default)]
pub struct Record {
    /// page, rate, bulk, fastcgi, hol, streams or adu-page
    pub kind: String,
    #[arg(long)]
    pub variant: String,
    #[arg(long)]
    pub rep: u64,
    /// the client whose output comes on stdin
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub loss: Option<f64>,
    /// the page's list of objects (path and size per line)
    #[arg(long)]
    pub page: Option<PathBuf>,
    /// rate or modload (record rate)
    #[arg(long)]
    pub scenario: Option<String>,
    /// bytes asked for (record bulk)
    #[arg(long)]
    pub bytes: Option<u64>,
    #[arg(long)]
    pub small_bytes: Option<u64>,
    #[arg(long)]
    pub large_bytes: Option<u64>,
    #[arg(long)]
    pub count: Option<usize>,
    /// cgi, 16mb or none (record hol)
    #[arg(long)]
    pub slow: Option<String>,
    /// seconds the slow CGI waits (record hol)
    #[arg(long)]
    pub delay: Option<f64>,
    /// SCTPMaxConcurrentStreams of the run (record streams)
    #[arg(long)]
    pub max: Option<u64>,
    /// the prioritised object's path (record adu-page)
    #[arg(long)]
    pub critical: Option<String>,
}

#[derive(Args, Debug)]
pub struct AduRun {
    /// priority or realtime
    #[arg(long)]
    pub case: String,
    #[arg(long)]
    pub variant: String,
    #[arg(long)]
    pub loss: f64,
    #[arg(long)]
    pub rep: u64,
    /// the receiver's network namespace
    #[arg(long)]
    pub server_ns: String,
    /// the sender's network namespace
    #[arg(long)]
    pub client_ns: String,
    #[arg(long)]
    pub server: SocketAddr,
}

#[derive(Args, Debug)]
pub struct Report {
    pub records: PathBuf,
    pub outdir: PathBuf,
    /// appended to RESULTS.md as it is
    pub notes: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct Merge {
    pub into: PathBuf,
    pub from: PathBuf,
}

fn positive_secs(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(s),
        _ => Err(format!("{v:?}: seconds, more than 0")),
    }
}

impl Record {
    pub fn need<T: Clone>(v: &Option<T>, name: &str) -> Result<T, String> {
        v.clone()
            .ok_or_else(|| format!("record: --{name} is required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("sctp-bench").chain(line.split_whitespace()))
    }

    /// Every command line bench/run and ci/bench give (their shell
    /// variables filled in) parses to what the subcommand expects.
    #[test]
    fn the_command_lines_of_bench_run_parse() {
        let lines = [
            "h3-serve 10.90.0.1:8443 --root /tmp/w/htdocs --cc newreno",
            "h3-get --json --cc cubic --timeout 60 https://10.90.0.1:8443/a https://10.90.0.1:8443/b",
            "pump-serve 10.90.0.1:9000",
            "pump-get 10.90.0.1:9000 --bytes 268435456",
            "record page --variant sctp-sack1 --loss 1 --rep 3 --page /r/bench/page.txt --from sctp-http",
            "record bulk --variant pump-off --rep 2 --bytes 268435456 --from pump",
            "record rate --scenario rate --variant h2load --rep 1 --from h2load",
            "record fastcgi --variant sctp --loss 3 --rep 6 --small-bytes 1024 --large-bytes 2097152 --count 64 --from fcgi-bridge",
            "record hol --variant sctp --slow cgi --delay 2 --rep 1 --page /w/hol-cgi.txt --from sctp-http",
            "record streams --variant page --max 8 --loss 1 --rep 1 --page /r/bench/page.txt --from sctp-http",
            "record adu-page --variant high --loss 3 --rep 5 --page /r/bench/page.txt --critical /page/o31.bin --from sctp-http",
            "adu-run --case priority --variant high --loss 3 --rep 1 --server-ns bs --client-ns bc --server 10.90.0.1:9100",
            "report docs/bench/records.jsonl docs/bench bench/notes.md",
            "merge docs/bench/records.jsonl /tmp/run/records.jsonl",
        ];
        for l in lines {
            assert!(parse(l).is_ok(), "{l}: {}", parse(l).unwrap_err());
        }
        match parse(lines[7]).unwrap().command {
            Command::Record(r) => {
                assert_eq!(
                    (r.kind.as_str(), r.loss, r.count),
                    ("fastcgi", Some(3.0), Some(64))
                );
                assert_eq!((r.small_bytes, r.large_bytes), (Some(1024), Some(2097152)));
            }
            c => panic!("{c:?}"),
        }
        match parse(lines[1]).unwrap().command {
            Command::H3Get(g) => {
                assert!(g.json && g.timeout == 60.0 && g.urls.len() == 2);
                assert_eq!(g.cc, Cc::Cubic);
            }
            c => panic!("{c:?}"),
        }
        match parse(lines[3]).unwrap().command {
            Command::PumpGet(g) => assert_eq!((g.bytes, g.sack_freq), (268435456, 0)),
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn mistakes_are_usage_errors_and_help_exits_cleanly() {
        use clap::error::ErrorKind;
        assert!(
            parse("record page --rep 1 --from x").is_err(),
            "no --variant"
        );
        assert!(parse("h3-get --timeout 0 https://h/").is_err());
        assert!(parse("h3-serve 10.0.0.1:1 --root /r --cc bbr").is_err());
        assert!(parse("pump-get nothost --bytes 1").is_err());
        assert_eq!(parse("--help").unwrap_err().kind(), ErrorKind::DisplayHelp);
        assert_eq!(
            parse("--version").unwrap_err().kind(),
            ErrorKind::DisplayVersion
        );
        assert_eq!(
            Record::need::<u64>(&None, "bytes").unwrap_err(),
            "record: --bytes is required"
        );
    }
}
