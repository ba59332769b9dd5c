//! The command line (sans-I/O): `get`, `raw` and `bench` as clap derives.
//!
//! [`parse_from`] is the one entry point: it runs clap and, for `raw`,
//! puts the `--send` and `--pause` steps back in the order they were given
//! (clap keeps each option's values apart; their positions on the command
//! line say the order). Clap's own errors exit 2, as curl's usage errors
//! do; `--help` and `--version` exit 0. What clap cannot check (URLs, exit
//! code 3; options that only make sense together) the binary checks after.

use crate::raw::{unescape, RawOpts, Step};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::time::Duration;

/// HTTP/1.1 over SCTP, each request on its own stream.
#[derive(Parser, Debug)]
#[command(
    name = "sctp-http",
    version,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true,
    args_override_self = true,
    after_help = "Exit codes follow curl's: 2 usage, 3 malformed URL, 6 host not resolved, \
7 connection failed, 8 bad response, 22 status >= 400 with --fail, 23 write error, \
26 read error (-d @FILE), 28 timeout, 55 send failed, 56 receive failed or truncated."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fetch URLs over one SCTP association (or several, or TCP), each
    /// request on its own stream.
    Get(GetArgs),
    /// Send exact SCTP messages on chosen streams; print what arrives as
    /// JSON lines.
    Raw(RawArgs),
    /// Load mode: each connection sends one request at a time, keep-alive.
    Bench(BenchArgs),
}

/// A number of seconds (fractions allowed), not negative.
fn secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("'{s}' is not a duration in seconds"))
}

/// A count of at least one.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a whole number of at least 1")),
    }
}

/// A flag or option given twice: the last one counts (as the hand-written
/// parser had it); repeatable options (-H, --local, -d) collect them all.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct GetArgs {
    /// Streams to use per association (default: all negotiated, at most 16)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub streams: Option<u16>,
    /// Requests outstanding at once per association
    #[arg(long, value_name = "N", default_value = "16", value_parser = at_least_one)]
    pub depth: usize,
    /// N associations to the server, set up at once, browser style: the
    /// next URL goes to the association with the fewest requests
    /// outstanding, round robin over its streams
    #[arg(long, value_name = "N", default_value = "1", value_parser = at_least_one)]
    pub associations: usize,
    /// SCTP_DELAYED_SACK on the client's sockets: acknowledge every Nth
    /// packet (1: every packet; the kernel's default is 2)
    #[arg(long = "sack-freq", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub sack_freq: Option<u32>,
    /// Request and response heads on stderr ('>' sent, '<' received), with
    /// the association and stream of each; what each association was set
    /// up with (streams, SCTP_DELAYED_SACK)
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Bind this local address too (repeatable; multihoming)
    #[arg(long, value_name = "ADDR")]
    pub local: Vec<String>,
    /// The same over one TCP connection (HTTP/1.1 pipelining)
    #[arg(long)]
    pub tcp: bool,
    /// With --tcp: N connections, opened at once, one request at a time on
    /// each, the next URL to the first free one
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
    /// Connect and idle timeout in seconds
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = secs)]
    pub timeout: Duration,
    /// Extra request header (repeatable); 'Name:' drops a header sctp-http
    /// would send, 'Name;' sends it empty
    #[arg(short = 'H', long = "header", value_name = "Name: value")]
    pub headers: Vec<String>,
    /// Where the body goes: a file, or - for stdout (one URL only; -o
    /// /dev/null: any number). Default: a file named after the URL in the
    /// current directory, never overwritten (.1, .2 added)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Write each body to the URL's file name (index.html for none),
    /// overwriting it
    #[arg(short = 'O', long = "remote-name", conflicts_with = "output")]
    pub remote_name: bool,
    /// One JSON object per URL on stdout, then a summary
    #[arg(long)]
    pub json: bool,
    /// Exit 22 when a status is 400 or more
    #[arg(short = 'f', long)]
    pub fail: bool,
    /// No per-object lines on stderr
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Write the response head before the body
    #[arg(short = 'i', long = "include")]
    pub include: bool,
    /// HEAD requests; print the response heads (on stdout unless -o or -O)
    #[arg(short = 'I', long = "head", conflicts_with_all = ["data", "data_binary"])]
    pub head: bool,
    /// The request method (default GET; POST with -d)
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// POST this body (repeatable, joined with '&'); @FILE reads a file
    /// without its line breaks, @- stdin
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Vec<String>,
    /// POST this body as is; @FILE reads a file byte for byte
    #[arg(long = "data-binary", value_name = "DATA")]
    pub data_binary: Vec<String>,
    /// URLs (http:// only), all on the same host and port
    #[arg(value_name = "URL", required = true)]
    pub urls: Vec<String>,
}

/// One piece of a request body as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// The bytes of the argument.
    Text(String),
    /// A file's contents (`-` for stdin); `strip_newlines` for `-d @FILE`,
    /// which drops CR and LF as curl does.
    File { path: String, strip_newlines: bool },
}

impl GetArgs {
    /// The pieces of the body in command-line order (`-d` and
    /// `--data-binary` mixed), empty for no body.
    pub fn body_parts(&self, m: Option<&ArgMatches>) -> Vec<Data> {
        let mut parts: Vec<(usize, Data)> = Vec::new();
        let mut add = |vals: &[String], id: &str, binary: bool| {
            let idx: Vec<usize> = m
                .and_then(|m| m.indices_of(id))
                .map(|i| i.collect())
                .unwrap_or_default();
            for (k, v) in vals.iter().enumerate() {
                let d = match v.strip_prefix('@') {
                    Some(path) => Data::File {
                        path: path.to_string(),
                        strip_newlines: !binary,
                    },
                    None => Data::Text(v.clone()),
                };
                parts.push((idx.get(k).copied().unwrap_or(usize::MAX), d));
            }
        };
        add(&self.data, "data", false);
        add(&self.data_binary, "data_binary", true);
        parts.sort_by_key(|(i, _)| *i);
        parts.into_iter().map(|(_, d)| d).collect()
    }
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Each --send TEXT (escapes \\r \\n \\\\ \\xHH) is one SCTP message on stream SID; \
--send and --pause run in the order given. Every message received is printed, as it arrives, \
as a JSON line with t_ms (milliseconds since the association was set up).",
    args_override_self = true
)]
pub struct RawArgs {
    /// Streams offered each way
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u16).range(1..))]
    pub streams: u16,
    /// After the steps, receive this long
    #[arg(long = "wait-ms", value_name = "MS", default_value = "2000")]
    pub wait_ms: u64,
    /// End the association with an ABORT this long after the last send
    /// (instead of --wait-ms)
    #[arg(long = "abort-after-ms", value_name = "MS")]
    pub abort_after_ms: Option<u64>,
    /// Send TEXT as one message on stream SID (repeatable)
    #[arg(long, value_name = "SID:TEXT")]
    pub send: Vec<String>,
    /// Keep receiving (and printing) MS milliseconds before the next step
    /// (repeatable)
    #[arg(long, value_name = "MS")]
    pub pause: Vec<u64>,
    /// The server: a host name or address, and a port
    #[arg(value_name = "HOST:PORT")]
    pub target: String,
}

impl RawArgs {
    /// The script: sends and pauses in command-line order (`m`: the raw
    /// subcommand's matches, for the positions). A bad `--send` is a usage
    /// error.
    pub fn to_opts(&self, m: Option<&ArgMatches>) -> Result<RawOpts, String> {
        let pos = |id: &str| -> Vec<usize> {
            m.and_then(|m| m.indices_of(id))
                .map(|i| i.collect())
                .unwrap_or_default()
        };
        let (send_at, pause_at) = (pos("send"), pos("pause"));
        let mut steps: Vec<(usize, Step)> = Vec::new();
        for (k, v) in self.send.iter().enumerate() {
            let (sid, text) = v
                .split_once(':')
                .ok_or_else(|| format!("--send {v}: want SID:TEXT"))?;
            let sid = sid
                .parse::<u16>()
                .map_err(|_| format!("--send {v}: '{sid}' is not a stream"))?;
            let at = send_at.get(k).copied().unwrap_or(usize::MAX);
            steps.push((at, Step::Send(sid, unescape(text)?)));
        }
        for (k, ms) in self.pause.iter().enumerate() {
            let at = pause_at.get(k).copied().unwrap_or(usize::MAX);
            steps.push((at, Step::Pause(Duration::from_millis(*ms))));
        }
        // A stable sort: without positions, sends before pauses.
        steps.sort_by_key(|(at, _)| *at);
        let o = RawOpts {
            target: self.target.clone(),
            streams: self.streams,
            steps: steps.into_iter().map(|(_, s)| s).collect(),
            wait: Duration::from_millis(self.wait_ms),
            abort_after: self.abort_after_ms.map(Duration::from_millis),
        };
        if o.abort_after.is_some() && !o.steps.iter().any(|s| matches!(s, Step::Send(..))) {
            return Err("--abort-after-ms counts from the last --send: give one".into());
        }
        Ok(o)
    }
}

#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct BenchArgs {
    /// Connections (associations), each its own thread
    #[arg(short = 'c', value_name = "N", default_value = "16", value_parser = at_least_one)]
    pub connections: usize,
    /// Requests in all
    #[arg(short = 'n', value_name = "N", default_value = "10000")]
    pub requests: u64,
    /// Run for this long instead of -n requests
    #[arg(short = 'd', value_name = "SECS", value_parser = secs)]
    pub duration: Option<Duration>,
    /// TCP connections instead of SCTP associations
    #[arg(long)]
    pub tcp: bool,
    /// Streams each association uses, round robin
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u16).range(1..))]
    pub streams: u16,
    /// Then keep the connections open and idle this long
    #[arg(long, value_name = "SECS", value_parser = secs)]
    pub hold: Option<Duration>,
    /// The summary as one JSON object on stdout
    #[arg(long)]
    pub json: bool,
    /// The URL (http:// only)
    #[arg(value_name = "URL")]
    pub url: String,
}

/// What the command line asked for: the subcommand, with `raw`'s script
/// and `get`'s body pieces in command-line order.
#[derive(Debug)]
pub enum Parsed {
    Get(GetArgs, Vec<Data>),
    Raw(RawOpts),
    Bench(BenchArgs),
}

/// A command line that clap accepted but that is still wrong (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

/// Parses a whole command line (the program name first). `Err(Ok(e))`:
/// clap's error, help or version (print it with `e.exit()` or
/// `e.print()`); `Err(Err(u))`: a usage mistake clap cannot see.
pub fn parse_from<I, T>(args: I) -> Result<Parsed, Result<clap::Error, UsageError>>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let m = Cli::command().try_get_matches_from(args).map_err(Ok)?;
    let cli = Cli::from_arg_matches(&m).map_err(Ok)?;
    let sub = m.subcommand().map(|(_, s)| s);
    match cli.command {
        Command::Get(g) => {
            let parts = g.body_parts(sub);
            Ok(Parsed::Get(g, parts))
        }
        Command::Raw(r) => r
            .to_opts(sub)
            .map(Parsed::Raw)
            .map_err(|e| Err(UsageError(e))),
        Command::Bench(b) => Ok(Parsed::Bench(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The man pages (man/sctp-http.1 and one per subcommand) are
    /// rendered from the command line itself, so they cannot drift: this
    /// fails when they differ, and `UPDATE_MAN=1 cargo test -p sctp-http`
    /// writes them anew.
    #[test]
    fn the_man_pages_are_the_command_lines() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
        let differ = man_pages::check(Cli::command(), "sctp-http", "1", &dir);
        assert!(
            differ.is_empty(),
            "{differ:?} differ from the command line: run UPDATE_MAN=1 cargo test -p sctp-http"
        );
    }

    fn parse(a: &[&str]) -> Result<Parsed, Result<clap::Error, UsageError>> {
        parse_from(std::iter::once("sctp-http").chain(a.iter().copied()))
    }

    fn get(a: &[&str]) -> (GetArgs, Vec<Data>) {
        match parse(&[&["get"], a].concat()) {
            Ok(Parsed::Get(g, d)) => (g, d),
            other => panic!("{a:?}: {other:?}"),
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn get_keeps_every_option_of_the_scripts() {
        // bench/run's fetch.
        let (g, d) = get(&[
            "--json",
            "-q",
            "-o",
            "/dev/null",
            "--streams",
            "16",
            "--depth",
            "32",
            "--timeout",
            "60",
            "http://h:8/a",
            "http://h:8/b",
        ]);
        assert!(g.json && g.quiet && !g.verbose && !g.tcp);
        assert_eq!(g.output.as_deref(), Some("/dev/null"));
        assert_eq!((g.streams, g.depth), (Some(16), 32));
        assert_eq!(g.timeout, Duration::from_secs(60));
        assert_eq!(g.urls, ["http://h:8/a", "http://h:8/b"]);
        assert!(d.is_empty());
        // Defaults.
        let (g, _) = get(&["http://h/"]);
        assert_eq!((g.streams, g.depth, g.associations), (None, 16, 1));
        assert_eq!((g.connections, g.sack_freq), (1, None));
        assert_eq!(g.timeout, Duration::from_secs(30));
        assert!(!g.fail && !g.include && !g.head && g.method.is_none());
        // multihoming.t, rserpool/run.sh, debian_layout.t, the README.
        let (g, _) = get(&[
            "-q",
            "--local",
            "10.0.0.1",
            "--local",
            "10.0.1.1",
            "--timeout",
            "0.5",
            "-o",
            "-",
            "-f",
            "http://h/",
        ]);
        assert_eq!(g.local, ["10.0.0.1", "10.0.1.1"]);
        assert_eq!(g.timeout, Duration::from_millis(500));
        assert_eq!(g.output.as_deref(), Some("-"));
        assert!(g.fail);
        let (g, _) = get(&["--fail", "--tcp", "--connections", "6", "http://h/"]);
        assert!(g.fail && g.tcp);
        assert_eq!(g.connections, 6);
        let (g, _) = get(&[
            "-v",
            "--sack-freq",
            "1",
            "--associations",
            "6",
            "-H",
            "X-A: 1",
            "-H",
            "X-B: 2",
            "http://h/",
        ]);
        assert!(g.verbose);
        assert_eq!((g.sack_freq, g.associations), (Some(1), 6));
        assert_eq!(g.headers, ["X-A: 1", "X-B: 2"]);
    }

    #[test]
    fn get_takes_curls_flags() {
        let (g, d) = get(&[
            "-i",
            "-X",
            "PUT",
            "-d",
            "a=1",
            "-d",
            "@f.txt",
            "-O",
            "http://h/x",
        ]);
        assert!(g.include && g.remote_name && !g.head);
        assert_eq!(g.method.as_deref(), Some("PUT"));
        assert_eq!(
            d,
            [
                Data::Text("a=1".into()),
                Data::File {
                    path: "f.txt".into(),
                    strip_newlines: true
                }
            ]
        );
        // -d and --data-binary keep their command-line order.
        let (_, d) = get(&[
            "--data-binary",
            "@b.bin",
            "-d",
            "x",
            "--data-binary",
            "raw",
            "http://h/",
        ]);
        assert_eq!(
            d,
            [
                Data::File {
                    path: "b.bin".into(),
                    strip_newlines: false
                },
                Data::Text("x".into()),
                Data::Text("raw".into()),
            ]
        );
        let (g, _) = get(&["-I", "--include", "http://h/"]);
        assert!(g.head && g.include);
        // Given twice, the last counts; flags may repeat.
        let (g, _) = get(&[
            "-o",
            "a",
            "-q",
            "-q",
            "--depth",
            "2",
            "-o",
            "b",
            "--depth",
            "3",
            "http://h/",
        ]);
        assert_eq!((g.output.as_deref(), g.depth), (Some("b"), 3));
        assert!(g.quiet);
    }

    #[test]
    fn get_usage_errors_exit_2_help_and_version_exit_0() {
        let code = |a: &[&str]| match parse(a) {
            Err(Ok(e)) => e.exit_code(),
            Err(Err(_)) => 2,
            Ok(p) => panic!("{a:?} accepted: {p:?}"),
        };
        for bad in [
            &[][..],
            &["get"],
            &["get", "-q"],
            &["get", "--bogus", "http://h/"],
            &["get", "--streams", "0", "http://h/"],
            &["get", "--streams", "70000", "http://h/"],
            &["get", "--depth", "0", "http://h/"],
            &["get", "--associations", "0", "http://h/"],
            &["get", "--connections", "0", "http://h/"],
            &["get", "--sack-freq", "0", "http://h/"],
            &["get", "--timeout", "x", "http://h/"],
            &["get", "--timeout", "-1", "http://h/"],
            &["get", "-o"],
            &["get", "-o", "a", "-O", "http://h/"],
            &["get", "-I", "-d", "x", "http://h/"],
            &["frob"],
            &["bench"],
            &["bench", "-c", "0", "http://h/"],
            &["bench", "http://h/a", "http://h/b"],
            &["raw"],
        ] {
            assert_eq!(code(bad), 2, "{bad:?}");
        }
        for ok in [
            &["--help"][..],
            &["--version"],
            &["get", "--help"],
            &["get", "--version"],
            &["raw", "--help"],
            &["bench", "--help"],
        ] {
            assert_eq!(code(ok), 0, "{ok:?}");
        }
        let Err(Ok(v)) = parse(&["--version"]) else {
            panic!("--version")
        };
        assert!(v.to_string().contains(env!("CARGO_PKG_VERSION")), "{v}");
    }

    #[test]
    fn bench_options() {
        let Ok(Parsed::Bench(b)) = parse(&[
            "bench",
            "-c",
            "16",
            "-d",
            "10",
            "--json",
            "--tcp",
            "http://h/1k",
        ]) else {
            panic!("bench")
        };
        assert_eq!(b.connections, 16);
        assert_eq!(b.duration, Some(Duration::from_secs(10)));
        assert!(b.json && b.tcp);
        assert_eq!(b.url, "http://h/1k");
        let Ok(Parsed::Bench(b)) = parse(&[
            "bench",
            "-c",
            "4",
            "-n",
            "4",
            "--hold",
            "120",
            "--streams",
            "2",
            "http://h/",
        ]) else {
            panic!("bench")
        };
        assert_eq!((b.connections, b.requests, b.streams), (4, 4, 2));
        assert_eq!(b.hold, Some(Duration::from_secs(120)));
        assert_eq!(b.duration, None);
    }
}
