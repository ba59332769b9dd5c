//! Command-line parsing (no I/O).

use std::path::PathBuf;

use crate::endpoint::Endpoint;
use crate::log::Level;

pub const USAGE: &str = "\
usage:
  fcgi-bridge backend --listen sctp:ADDR:PORT [--listen tcp:ADDR:PORT]...
                      --app tcp:HOST:PORT|unix:/PATH [--streams N (34)]
                      [--max-reqs N] [--max-conns N (256)] [--log-level L]
                      [--pool HANDLE [--registrar ADDR[:PORT],... ($RSP_REGISTRAR,
                       else 127.0.0.1:3863)]]
  fcgi-bridge frontend --listen tcp:ADDR:PORT|unix:/PATH --backend sctp:HOST:PORT
                      [--streams N (34)] [--max-assocs N (64)] [--log-level L]
  fcgi-bridge request --to sctp:HOST:PORT|tcp:HOST:PORT [--param NAME=VALUE]...
                      [--stdin FILE] [--count N (1)] [--concurrency C (1)]
                      [--streams N (34)] [--timeout SECS (30)] [--log-level L]
                      [--large-param NAME=VALUE]... [--tcp-per-request] [--json]
log levels: error, warn, info (default), debug";

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
    Help,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    pub log_level: Level,
}

/// Options without a value.
const FLAGS: &[&str] = &["json", "tcp-per-request"];

/// Splits `--name value` / `--name=value` options (and `--flag`s).
fn options(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            out.push(("help".into(), String::new()));
            continue;
        }
        let Some(name) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument {a:?}"));
        };
        if FLAGS.contains(&name) {
            out.push((name.to_string(), String::new()));
            continue;
        }
        match name.split_once('=') {
            Some((n, v)) => out.push((n.to_string(), v.to_string())),
            None => {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                out.push((name.to_string(), v.clone()));
            }
        }
    }
    Ok(out)
}

fn number<T>(name: &str, v: &str, min: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = v
        .parse()
        .map_err(|_| format!("--{name}: {v:?} is not a number"))?;
    if n < min {
        return Err(format!("--{name}: at least {min}"));
    }
    Ok(n)
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let Some((mode, rest)) = args.split_first() else {
        return Err("no mode given".into());
    };
    if mode == "-h" || mode == "--help" || mode == "help" {
        return Ok(Parsed {
            command: Command::Help,
            log_level: Level::Info,
        });
    }
    let opts = options(rest)?;
    let mut log_level = Level::Info;
    let mut listen = Vec::new();
    let mut app = None;
    let mut backend = None;
    let mut to = None;
    let mut streams = 34u16;
    let mut max_reqs = None;
    let mut max_conns = 256usize;
    let mut max_assocs = 64usize;
    let mut params = Vec::new();
    let mut stdin = None;
    let mut count = 1usize;
    let mut concurrency = 1usize;
    let mut timeout_secs = 30u64;
    let mut large_params = Vec::new();
    let mut tcp_per_request = false;
    let mut json = false;
    let mut pool = None;
    let mut registrars = None;
    let allowed: &[&str] = match mode.as_str() {
        "backend" => &[
            "listen",
            "app",
            "streams",
            "max-reqs",
            "max-conns",
            "pool",
            "registrar",
        ],
        "frontend" => &["listen", "backend", "streams", "max-assocs"],
        "request" => &[
            "to",
            "param",
            "stdin",
            "count",
            "concurrency",
            "streams",
            "timeout",
            "large-param",
            "tcp-per-request",
            "json",
        ],
        m => return Err(format!("unknown mode {m:?} (backend, frontend or request)")),
    };
    for (name, v) in opts {
        if name == "help" {
            return Ok(Parsed {
                command: Command::Help,
                log_level,
            });
        }
        if name != "log-level" && !allowed.contains(&name.as_str()) {
            return Err(format!("{mode}: unknown option --{name}"));
        }
        match name.as_str() {
            "log-level" => {
                log_level = Level::parse(&v).ok_or_else(|| format!("--log-level: {v:?}"))?
            }
            "listen" => listen.push(Endpoint::parse(&v)?),
            "app" => app = Some(Endpoint::parse(&v)?),
            "backend" => backend = Some(Endpoint::parse(&v)?),
            "to" => to = Some(Endpoint::parse(&v)?),
            "streams" => streams = number(&name, &v, 3u16)?,
            "max-reqs" => max_reqs = Some(number(&name, &v, 1usize)?),
            "max-conns" => max_conns = number(&name, &v, 1usize)?,
            "max-assocs" => max_assocs = number(&name, &v, 1usize)?,
            "param" | "large-param" => {
                let (n, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--{name} {v:?}: expected NAME=VALUE"))?;
                let list = if name == "param" {
                    &mut params
                } else {
                    &mut large_params
                };
                list.push((n.to_string(), val.to_string()));
            }
            "pool" if v.is_empty() => return Err("--pool: an empty pool handle".into()),
            "pool" => pool = Some(v),
            "registrar" => {
                registrars = Some(
                    rsp_sockets::config::parse_registrars(&v)
                        .map_err(|e| format!("--registrar: {e}"))?,
                )
            }
            "tcp-per-request" => tcp_per_request = true,
            "json" => json = true,
            "stdin" => stdin = Some(PathBuf::from(v)),
            "count" => count = number(&name, &v, 1usize)?,
            "concurrency" => concurrency = number(&name, &v, 1usize)?,
            "timeout" => timeout_secs = number(&name, &v, 1u64)?,
            _ => unreachable!(),
        }
    }
    let command = match mode.as_str() {
        "backend" => {
            if !listen
                .iter()
                .any(|e| matches!(e, Endpoint::Sctp(_) | Endpoint::Tcp(_)))
                || listen.iter().any(|e| matches!(e, Endpoint::Unix(_)))
            {
                return Err(
                    "backend: --listen sctp:ADDR:PORT or tcp:ADDR:PORT (one or more)".into(),
                );
            }
            let app = app.ok_or("backend: --app tcp:HOST:PORT|unix:/PATH is required")?;
            if matches!(app, Endpoint::Sctp(_)) {
                return Err("backend: --app is tcp: or unix:".into());
            }
            if pool.is_some() && !listen.iter().any(|e| matches!(e, Endpoint::Sctp(_))) {
                return Err("backend: --pool registers an sctp: listener; none given".into());
            }
            if registrars.is_some() && pool.is_none() {
                return Err("backend: --registrar without --pool".into());
            }
            Command::Backend(Backend {
                listen,
                app,
                streams,
                max_reqs,
                max_conns,
                pool: pool.map(|handle| Pool { handle, registrars }),
            })
        }
        "frontend" => {
            let [l] = listen.as_slice() else {
                return Err("frontend: one --listen tcp:ADDR:PORT|unix:/PATH".into());
            };
            if matches!(l, Endpoint::Sctp(_)) {
                return Err("frontend: --listen is tcp: or unix:".into());
            }
            let backend = backend.ok_or("frontend: --backend sctp:HOST:PORT is required")?;
            if !matches!(backend, Endpoint::Sctp(_)) {
                return Err("frontend: --backend is sctp:HOST:PORT".into());
            }
            Command::Frontend(Frontend {
                listen: l.clone(),
                backend,
                streams,
                max_assocs,
            })
        }
        _ => {
            let to = to.ok_or("request: --to sctp:HOST:PORT|tcp:HOST:PORT is required")?;
            if matches!(to, Endpoint::Unix(_)) {
                return Err("request: --to is sctp: or tcp:".into());
            }
            if tcp_per_request && !matches!(to, Endpoint::Tcp(_)) {
                return Err("request: --tcp-per-request needs --to tcp:HOST:PORT".into());
            }
            Command::Request(Request {
                to,
                params,
                stdin,
                count,
                concurrency,
                streams,
                timeout_secs,
                large_params,
                tcp_per_request,
                json,
            })
        }
    };
    Ok(Parsed { command, log_level })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Parsed, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v)
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
        let e = p("backend --listen sctp:h:1 --app tcp:h:1 --registrar 10.0.0.1").unwrap_err();
        assert!(e.contains("without --pool"), "{e}");
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
        assert_eq!(p("--help").unwrap().command, Command::Help);
        assert_eq!(p("request --help").unwrap().command, Command::Help);
    }
}
