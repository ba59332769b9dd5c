//! fcgi-bridge: FastCGI over SCTP (docs/fastcgi.md) to and from plain
//! FastCGI. Modes: `backend` (SCTP in, php-fpm/fcgiwrap out), `frontend`
//! (nginx's TCP FastCGI in, SCTP out) and `request` (a test client). See
//! README.md.

#[macro_use]
mod log;

mod backend;
mod backend_session;
mod cli;
mod client_session;
mod conn;
mod endpoint;
mod front_conn;
mod frontend;
mod pool;
mod pool_element;
mod request;
mod rewrite;
mod sctp_link;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match cli::parse(&args) {
        Ok(p) => p,
        // --help and --version: printed on stdout, exit 0.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // A usage error: clap's message and a usage line on stderr, and
        // EX_USAGE as before.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(64);
        }
    };
    log::set_level(parsed.log_level);
    let code = match parsed.command {
        cli::Command::Backend(b) => fail(backend::run(backend::Options {
            listen: b.listen,
            app: b.app,
            streams: b.streams,
            max_reqs: b.max_reqs,
            max_conns: b.max_conns,
            pool: b.pool,
        })),
        cli::Command::Frontend(f) => fail(frontend::run(frontend::Options {
            listen: f.listen,
            backend: f.backend,
            streams: f.streams,
            max_assocs: f.max_assocs,
        })),
        cli::Command::Request(r) => request::run(&r),
    };
    ExitCode::from(code as u8)
}

fn fail(r: Result<(), String>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            log_error!("{e}");
            1
        }
    }
}
