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
        Err(e) => {
            eprintln!("fcgi-bridge: {e}\n{}", cli::USAGE);
            return ExitCode::from(64);
        }
    };
    log::set_level(parsed.log_level);
    let code = match parsed.command {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            0
        }
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
