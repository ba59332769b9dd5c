//! Command-line parsing (no I/O): clap's derive for the syntax, `--help`
//! and `--version`; the checks that involve several options (which
//! endpoint kinds a mode takes, `--pool` with an SCTP listener) after it.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::endpoint::Endpoint;
use crate::log::Level;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    pub listen: Vec<Endpoint>,
    pub app: Endpoint,
    pub streams: u16,
    pub max_reqs: Option<usize>,
    pub max_conns: usize,
    /// Register the (first) SCTP listener as a pool element.
    pub pool: Option<Pool>,
}

/// `--pool` and `--registrar` of backend mode (docs/rserpool.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub handle: String,
    /// None: `RSP_REGISTRAR`, else the default.
    pub registrars: Option<Vec<std::net::SocketAddr>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontend {
    pub listen: Endpoint,
    pub backend: Endpoint,
    pub streams: u16,
    pub max_assocs: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub to: Endpoint,
    pub params: Vec<(String, String)>,
    pub stdin: Option<PathBuf>,
    pub count: usize,
    pub concurrency: usize,
    pub streams: u16,
    pub timeout_secs: u64,
    /// A mix: one large request first (the `--param`s overridden by
    /// these), then the `count` small ones once its first bytes arrive.
    pub large_params: Vec<(String, String)>,
    /// TCP: one connection per request, no KEEP_CONN (stock
    /// mod_proxy_fcgi), instead of multiplexing on one.
    pub tcp_per_request: bool,
    /// One JSON line per request (and a summary) instead of the bodies.
    pub json: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Backend(Backend),
    Frontend(Frontend),
    Request(Request),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    pub log_level: Level,
}

/// FastCGI over SCTP (docs/fastcgi.md) to and from plain FastCGI.
#[derive(Parser, Debug)]
#[command(name = "fcgi-bridge", version, about, long_about = None)]
struct Cli {
    /// error, warn, info or debug
    #[arg(long, global = true, default_value = "info", value_parser = level)]
    log_level: Level,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// SCTP (and TCP) in, an unmodified FastCGI application (php-fpm,
    /// fcgiwrap) out
    Backend(BackendArgs),
    /// A TCP-only FastCGI client (nginx) in, an SCTP backend out
    Frontend(FrontendArgs),
    /// A test client: sends FastCGI requests and prints the answers
    Request(RequestArgs),
}

#[derive(Args, Debug)]
struct BackendArgs {
    /// sctp:ADDR:PORT or tcp:ADDR:PORT (repeatable)
    #[arg(long, required = true, value_parser = Endpoint::parse)]
    listen: Vec<Endpoint>,
    /// tcp:HOST:PORT or unix:/PATH of the FastCGI application
    #[arg(long, value_parser = Endpoint::parse)]
    app: Endpoint,
    /// SCTP streams per association (3 or more)
    #[arg(long, default_value_t = 34, value_parser = clap::value_parser!(u16).range(3..))]
    streams: u16,
    /// requests at once (FCGI_MAX_REQS); default: the application's
    #[arg(long, value_parser = at_least_one)]
    max_reqs: Option<usize>,
    /// connections to the application at once
    #[arg(long, default_value_t = 256, value_parser = at_least_one)]
    max_conns: usize,
    /// register the SCTP listener as a pool element of this RSerPool pool
    #[arg(long, value_parser = pool_handle)]
    pool: Option<String>,
    /// registrars, ADDR[:PORT],... (default: $RSP_REGISTRAR, else 127.0.0.1:3863)
    #[arg(long, requires = "pool", value_parser = registrars)]
    registrar: Option<Registrars>,
}

/// `--registrar`'s list (a type of its own: clap reads `Option<Vec<_>>` as
/// a repeatable option).
#[derive(Clone, Debug)]
struct Registrars(Vec<std::net::SocketAddr>);

#[derive(Args, Debug)]
struct FrontendArgs {
    /// tcp:ADDR:PORT or unix:/PATH where the FastCGI client connects
    #[arg(long, value_parser = Endpoint::parse)]
    listen: Endpoint,
    /// sctp:HOST:PORT of the backend
    #[arg(long, value_parser = Endpoint::parse)]
    backend: Endpoint,
    /// SCTP streams per association (3 or more)
    #[arg(long, default_value_t = 34, value_parser = clap::value_parser!(u16).range(3..))]
    streams: u16,
    /// associations to the backend at most
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    max_assocs: usize,
}

#[derive(Args, Debug)]
struct RequestArgs {
    /// sctp:HOST:PORT or tcp:HOST:PORT
    #[arg(long, value_parser = Endpoint::parse)]
    to: Endpoint,
    /// a FastCGI parameter NAME=VALUE (repeatable)
    #[arg(long, value_parser = name_value)]
    param: Vec<(String, String)>,
    /// the request body (FCGI_STDIN) from this file
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// requests in all
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    count: usize,
    /// requests at once
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    concurrency: usize,
    /// SCTP streams per association (3 or more)
    #[arg(long, default_value_t = 34, value_parser = clap::value_parser!(u16).range(3..))]
    streams: u16,
    /// seconds before a request is given up
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// a parameter of one large request sent first (repeatable)
    #[arg(long, value_parser = name_value)]
    large_param: Vec<(String, String)>,
    /// over TCP, one connection per request (stock mod_proxy_fcgi)
    #[arg(long)]
    tcp_per_request: bool,
    /// one JSON line per request and a summary instead of the bodies
    #[arg(long)]
    json: bool,
}

fn level(v: &str) -> Result<Level, String> {
    Level::parse(v).ok_or_else(|| format!("{v:?}: error, warn, info or debug"))
}

fn at_least_one(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("at least 1".into()),
        Err(_) => Err(format!("{v:?} is not a number")),
    }
}

fn name_value(v: &str) -> Result<(String, String), String> {
    v.split_once('=')
        .map(|(n, val)| (n.to_string(), val.to_string()))
        .ok_or_else(|| format!("{v:?}: expected NAME=VALUE"))
}

fn pool_handle(v: &str) -> Result<String, String> {
    if v.is_empty() {
        Err("an empty pool handle".into())
    } else {
        Ok(v.to_string())
    }
}

fn registrars(v: &str) -> Result<Registrars, String> {
    rsp_sockets::config::parse_registrars(v)
        .map(Registrars)
        .map_err(|e| e.to_string())
}

/// A usage error found after clap's own checks (clap formats it the same
/// way).
fn usage(msg: impl std::fmt::Display) -> clap::Error {
    Cli::command().error(clap::error::ErrorKind::ArgumentConflict, msg)
}

/// Parses the arguments after the program name. `--help` and `--version`
/// come back as errors of their kind (`exit` prints them and exits 0).
pub fn parse(args: &[String]) -> Result<Parsed, clap::Error> {
    let cli = Cli::try_parse_from(
        std::iter::once("fcgi-bridge".to_string()).chain(args.iter().cloned()),
    )?;
    let command = match cli.mode {
        Mode::Backend(b) => {
            if b.listen.iter().any(|e| matches!(e, Endpoint::Unix(_))) {
                return Err(usage(
                    "backend: --listen sctp:ADDR:PORT or tcp:ADDR:PORT (one or more)",
                ));
            }
            if matches!(b.app, Endpoint::Sctp(_)) {
                return Err(usage("backend: --app is tcp: or unix:"));
            }
            if b.pool.is_some() && !b.listen.iter().any(|e| matches!(e, Endpoint::Sctp(_))) {
                return Err(usage(
                    "backend: --pool registers an sctp: listener; none given",
                ));
            }
            Command::Backend(Backend {
                listen: b.listen,
                app: b.app,
                streams: b.streams,
                max_reqs: b.max_reqs,
                max_conns: b.max_conns,
                pool: b.pool.map(|handle| Pool {
                    handle,
                    registrars: b.registrar.map(|r| r.0),
                }),
            })
        }
        Mode::Frontend(f) => {
            if matches!(f.listen, Endpoint::Sctp(_)) {
                return Err(usage("frontend: --listen is tcp: or unix:"));
            }
            if !matches!(f.backend, Endpoint::Sctp(_)) {
                return Err(usage("frontend: --backend is sctp:HOST:PORT"));
            }
            Command::Frontend(Frontend {
                listen: f.listen,
                backend: f.backend,
                streams: f.streams,
                max_assocs: f.max_assocs,
            })
        }
        Mode::Request(r) => {
            if matches!(r.to, Endpoint::Unix(_)) {
                return Err(usage("request: --to is sctp: or tcp:"));
            }
            if r.tcp_per_request && !matches!(r.to, Endpoint::Tcp(_)) {
                return Err(usage("request: --tcp-per-request needs --to tcp:HOST:PORT"));
            }
            Command::Request(Request {
                to: r.to,
                params: r.param,
                stdin: r.stdin,
                count: r.count,
                concurrency: r.concurrency,
                streams: r.streams,
                timeout_secs: r.timeout,
                large_params: r.large_param,
                tcp_per_request: r.tcp_per_request,
                json: r.json,
            })
        }
    };
    Ok(Parsed {
        command,
        log_level: cli.log_level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The man pages (man/fcgi-bridge.8 and one per subcommand) are
    /// rendered from the command line itself, so they cannot drift: this
    /// fails when they differ, and `UPDATE_MAN=1 cargo test -p fcgi-bridge`
    /// writes them anew.
    #[test]
    fn the_man_pages_are_the_command_lines() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
        let differ = man_pages::check(Cli::command(), "fcgi-bridge", "8", &dir);
        assert!(
            differ.is_empty(),
            "{differ:?} differ from the command line: run UPDATE_MAN=1 cargo test -p fcgi-bridge"
        );
    }

    fn p(s: &str) -> Result<Parsed, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v).map_err(|e| e.to_string())
    }

    fn kind(s: &str) -> Option<clap::error::ErrorKind> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v).err().map(|e| e.kind())
    }

    #[test]
    fn backend_options() {
        let b = p("backend --listen sctp:127.0.0.1:9000 --listen=tcp:0.0.0.0:9001 --app unix:/run/php.sock --max-reqs 8 --log-level debug").unwrap();
        assert_eq!(b.log_level, Level::Debug);
        match b.command {
            Command::Backend(b) => {
                assert_eq!(b.listen.len(), 2);
                assert_eq!(b.app, Endpoint::Unix("/run/php.sock".into()));
                assert_eq!((b.streams, b.max_reqs, b.max_conns), (34, Some(8), 256));
            }
            c => panic!("{c:?}"),
        }
        assert!(p("backend --listen sctp:h:1").is_err(), "no --app");
        assert!(p("backend --app tcp:h:1").is_err(), "no --listen");
        assert!(p("backend --listen sctp:h:1 --app sctp:h:2").is_err());
        assert!(p("backend --listen sctp:h:1 --app tcp:h:2 --streams 2").is_err());
        assert!(p("backend --listen sctp:h:1 --app tcp:h:2 --to tcp:h:3").is_err());
        assert!(p("backend --listen sctp:h:1 --app").is_err());
    }

    #[test]
    fn backend_pool_options() {
        match p("backend --listen sctp:0.0.0.0:9000 --app tcp:127.0.0.1:9001 --pool app --registrar 10.0.0.1,10.0.0.2:4000")
            .unwrap()
            .command
        {
            Command::Backend(b) => {
                let pool = b.pool.unwrap();
                assert_eq!(pool.handle, "app");
                let r: Vec<String> = pool.registrars.unwrap().iter().map(|a| a.to_string()).collect();
                assert_eq!(r, ["10.0.0.1:3863", "10.0.0.2:4000"]);
            }
            c => panic!("{c:?}"),
        }
        match p("backend --listen sctp:0.0.0.0:9000 --app tcp:h:1 --pool app")
            .unwrap()
            .command
        {
            Command::Backend(b) => assert_eq!(b.pool.unwrap().registrars, None),
            c => panic!("{c:?}"),
        }
        let e = p("backend --listen tcp:0.0.0.0:9000 --app tcp:h:1 --pool app").unwrap_err();
        assert!(e.contains("sctp: listener"), "{e}");
        // --registrar needs --pool (clap: "required arguments were not
        // provided: --pool").
        assert_eq!(
            kind("backend --listen sctp:h:1 --app tcp:h:1 --registrar 10.0.0.1"),
            Some(clap::error::ErrorKind::MissingRequiredArgument)
        );
        let e = p("backend --listen sctp:h:1 --app tcp:h:1 --pool app --registrar reg.example")
            .unwrap_err();
        assert!(e.contains("--registrar"), "{e}");
        assert!(p("frontend --listen tcp:h:1 --backend sctp:h:2 --pool app").is_err());
    }

    #[test]
    fn frontend_and_request_options() {
        match p("frontend --listen tcp:127.0.0.1:9000 --backend sctp:10.0.0.1:9000 --streams 6")
            .unwrap()
            .command
        {
            Command::Frontend(f) => assert_eq!((f.streams, f.max_assocs), (6, 64)),
            c => panic!("{c:?}"),
        }
        assert!(p("frontend --listen tcp:h:1 --backend tcp:h:2").is_err());
        match p("request --to sctp:h:1 --param A=b=c --param EMPTY= --count 10 --concurrency 4")
            .unwrap()
            .command
        {
            Command::Request(r) => {
                assert_eq!(
                    r.params,
                    vec![("A".into(), "b=c".into()), ("EMPTY".into(), "".into())]
                );
                assert_eq!((r.count, r.concurrency, r.timeout_secs), (10, 4, 30));
            }
            c => panic!("{c:?}"),
        }
        assert!(p("request --to sctp:h:1 --param NOEQUALS").is_err());
        match p("request --to tcp:h:1 --json --large-param SCRIPT_FILENAME=/l.php --tcp-per-request --count 64")
            .unwrap()
            .command
        {
            Command::Request(r) => {
                assert!(r.json && r.tcp_per_request);
                assert_eq!(r.large_params, vec![("SCRIPT_FILENAME".into(), "/l.php".into())]);
                assert_eq!(r.count, 64);
            }
            c => panic!("{c:?}"),
        }
        match p("request --to sctp:h:1").unwrap().command {
            Command::Request(r) => {
                assert!(!r.json && !r.tcp_per_request && r.large_params.is_empty())
            }
            c => panic!("{c:?}"),
        }
        assert!(p("request --to sctp:h:1 --tcp-per-request").is_err());
        assert!(p("request --to tcp:h:1 --large-param X").is_err());
        assert!(p("backend --listen sctp:h:1 --app tcp:h:2 --json").is_err());
        assert!(p("request --to sctp:h:1 --count 0").is_err());
        assert!(p("fly --to x").is_err());
        use clap::error::ErrorKind;
        assert_eq!(kind("--help"), Some(ErrorKind::DisplayHelp));
        assert_eq!(kind("request --help"), Some(ErrorKind::DisplayHelp));
        assert_eq!(kind("--version"), Some(ErrorKind::DisplayVersion));
        assert_eq!(
            kind("request --to sctp:h:1 --log-level loud"),
            Some(ErrorKind::ValueValidation)
        );
        assert_eq!(
            p("request --to sctp:h:1 --log-level warn")
                .unwrap()
                .log_level,
            Level::Warn
        );
        assert_eq!(
            p("--log-level debug request --to sctp:h:1")
                .unwrap()
                .log_level,
            Level::Debug
        );
    }
}
