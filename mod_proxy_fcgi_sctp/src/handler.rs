//! mod_proxy's hooks for `fcgi+sctp://`: the canon handler (ProxyPass) and
//! the scheme handler that runs one request over its own stream of a shared
//! association (association.rs). FFI glue: the CGI environment from httpd,
//! the request body from the input filters, the response headers parsed by
//! httpd's CGI header scanner, the body to the output filters.

use crate::association::{self, Backend, Event, Level, OpenError, Registry, Settings};
use crate::backend_url::{self, BackendUrl, Target};
use crate::cgi_response::{HeaderSplit, Split};
use crate::log;
use crate::pools;
use fastcgi::record;
use httpd_sys::{self as ffi, brigade};
use rsp_sockets::resolver::Attempt;
use std::ffi::{CStr, CString};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::raw::{c_char, c_int};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

/// This process's backends (each with its associations).
static BACKENDS: Registry = Registry::new();

/// Elements of a pool one request tries before it is answered 503.
const MAX_PICKS: usize = 8;

/// mod_proxy's canon hook: `proxy:fcgi+sctp://host:port/path` keeps its
/// form, with the path %-encoded as for `fcgi://` (the scheme handler
/// decodes it into SCRIPT_FILENAME).
pub unsafe extern "C" fn canon_handler(r: *mut ffi::request_rec, url: *mut c_char) -> c_int {
    let body = || {
        if url.is_null() {
            return ffi::DECLINED;
        }
        // SAFETY: mod_proxy passes a NUL-terminated URL living in r->pool.
        let u = unsafe { CStr::from_ptr(url) }.to_string_lossy();
        if !backend_url::is_ours(&u) {
            return ffi::DECLINED;
        }
        if let Err(e) = BackendUrl::parse(&u) {
            // SAFETY: `r` is the live request mod_proxy canonicalises.
            unsafe { log::request(r, Level::Error, &format!("SCTP20009: {u}: {e}")) };
            return ffi::HTTP_BAD_REQUEST as c_int;
        }
        ffi::OK as c_int
    };
    // SAFETY: httpd passes a live request for the whole call.
    unsafe { httpd_module::boundary::request(r, "mod_proxy_fcgi_sctp: canon_handler", body) }
}

/// mod_proxy's scheme hook.
pub unsafe extern "C" fn scheme_handler(
    r: *mut ffi::request_rec,
    worker: *mut ffi::proxy_worker,
    _conf: *mut ffi::proxy_server_conf,
    url: *mut c_char,
    _proxyname: *const c_char,
    _proxyport: ffi::apr_port_t,
) -> c_int {
    let body = || {
        if url.is_null() {
            return ffi::DECLINED;
        }
        // SAFETY: a NUL-terminated URL in r->pool.
        let u = unsafe { CStr::from_ptr(url) }
            .to_string_lossy()
            .into_owned();
        if !backend_url::is_ours(&u) {
            return ffi::DECLINED;
        }
        // SAFETY: `r` and `worker` are live for this call (mod_proxy's contract).
        unsafe { Request::new(r, worker).run(&u) }
    };
    // SAFETY: httpd passes a live request for the whole call.
    unsafe { httpd_module::boundary::request(r, "mod_proxy_fcgi_sctp: scheme_handler", body) }
}

struct Request {
    r: *mut ffi::request_rec,
    worker: *mut ffi::proxy_worker,
    timeout: Duration,
    /// No request body (no Content-Length above 0, no Transfer-Encoding):
    /// the empty STDIN record goes with BEGIN_REQUEST and PARAMS, so the
    /// whole request is one send, and a pool element whose association
    /// refuses it has received none of it (the next one is tried).
    bodiless: bool,
}

impl Request {
    /// # Safety
    /// `r` and `worker` (may be null) are live for the request.
    unsafe fn new(r: *mut ffi::request_rec, worker: *mut ffi::proxy_worker) -> Request {
        // mod_proxy's `timeout=` of the worker, else the server's Timeout.
        // SAFETY: live worker/shared data and server (caller's contract).
        let usec = unsafe {
            let s = if worker.is_null() {
                std::ptr::null_mut()
            } else {
                (*worker).s
            };
            if !s.is_null() && (*s).timeout_set() != 0 {
                (*s).timeout
            } else {
                (*(*r).server).timeout
            }
        };
        // SAFETY: the live request (caller's contract).
        let bodiless = unsafe { ffi::ap_request_has_body(r) } == 0;
        Request {
            r,
            worker,
            timeout: Duration::from_micros(usec.max(1_000_000) as u64),
            bodiless,
        }
    }

    fn log(&self, level: Level, msg: &str) {
        // SAFETY: `self.r` is the live request being handled.
        unsafe { log::request(self.r, level, msg) }
    }

    unsafe fn run(&self, url: &str) -> c_int {
        let target = match BackendUrl::parse(url) {
            Ok(t) => t,
            Err(e) => {
                self.log(Level::Error, &format!("SCTP20010: {url}: {e}"));
                return ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
            }
        };
        // SAFETY: the live request.
        let params = unsafe { self.params(&target) };
        let opened = match &target.target {
            // SAFETY: the live request (and worker).
            Target::Host { host, port } => unsafe {
                self.open_on_host(&target, host, *port, &params)
            },
            Target::Pool { handle } => self.open_in_pool(handle, &params),
        };
        let mut stream = match opened {
            Ok(s) => s,
            Err(status) => return status,
        };
        self.log(
            Level::Debug,
            &format!(
                "FastCGI request on stream {} of an association to {} ({})",
                stream.id(),
                stream.backend(),
                target.path
            ),
        );
        if !self.bodiless {
            // SAFETY: the live request.
            if let Err(status) = unsafe { self.send_body(&stream) } {
                return status;
            }
        }
        // SAFETY: the live request.
        unsafe { self.respond(&mut stream) }
    }

    /// A stream to `host:port` with the request's BEGIN_REQUEST and
    /// PARAMS sent on it; else the status to answer with.
    unsafe fn open_on_host(
        &self,
        target: &BackendUrl,
        host: &str,
        port: u16,
        params: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<association::RequestStream, c_int> {
        let label = target.target.label();
        let backend = match BACKENDS.get(&label) {
            Some(b) => b,
            None => {
                let addrs: Vec<_> = match (host, port).to_socket_addrs() {
                    Ok(a) => a.collect(),
                    Err(e) => {
                        self.log(
                            Level::Error,
                            &format!(
                                "SCTP20011: FastCGI backend {label}: cannot resolve {host}: {e}"
                            ),
                        );
                        return Err(ffi::HTTP_SERVICE_UNAVAILABLE as c_int);
                    }
                };
                self.backend(&label, addrs)
            }
        };
        let stream = match backend.open_request(self.timeout) {
            Ok(s) => s,
            Err(e) => {
                self.log(
                    Level::Error,
                    &format!("SCTP20012: FastCGI backend {label} over SCTP: no stream for this request: {e}"),
                );
                if matches!(e, OpenError::Connect(_)) {
                    // SAFETY: live worker (see new()).
                    unsafe { self.mark_worker_in_error() };
                }
                return Err(ffi::HTTP_SERVICE_UNAVAILABLE as c_int);
            }
        };
        if let Err(e) = self.begin(&stream, params) {
            self.log(
                Level::Error,
                &format!("SCTP20013: FastCGI backend {label}: sending the request failed: {e}"),
            );
            return Err(ffi::HTTP_SERVICE_UNAVAILABLE as c_int);
        }
        Ok(stream)
    }

    /// A stream to an element of pool `handle`, picked by the pool's
    /// policy, with the request's BEGIN_REQUEST and PARAMS sent on it. An
    /// element that cannot be reached, or whose association fails the
    /// send, is reported to the registrar and the next one is tried: a
    /// request nothing of which has reached a backend is never failed for
    /// a dead one while the pool has another.
    fn open_in_pool(
        &self,
        handle: &str,
        params: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<association::RequestStream, c_int> {
        let mut attempt = Attempt::default();
        let mut last = String::from("no element tried");
        for _ in 0..MAX_PICKS {
            let pe = match pools::next(handle, &mut attempt) {
                Ok(pe) => pe,
                Err(e) => {
                    last = format!("{e} (registrars {})", pools::registrars());
                    break;
                }
            };
            let backend = match BACKENDS.get(&pe.label) {
                Some(b) => b,
                None => self.backend(&pe.label, pe.addrs.clone()),
            };
            let why = match backend.open_request(self.timeout) {
                Ok(stream) => match self.begin(&stream, params) {
                    Ok(()) => {
                        self.log(
                            Level::Debug,
                            &format!(
                                "pool {handle}: pool element {:08x} ({})",
                                pe.identifier, pe.label
                            ),
                        );
                        return Ok(stream);
                    }
                    Err(e) => format!("sending the request failed: {e}"),
                },
                Err(e @ OpenError::Connect(_)) => e.to_string(),
                Err(e) => {
                    self.log(
                        Level::Error,
                        &format!(
                            "SCTP20014: pool {handle}: pool element {:08x} ({}): no stream for this request: {e}",
                            pe.identifier, pe.label
                        ),
                    );
                    return Err(ffi::HTTP_SERVICE_UNAVAILABLE as c_int);
                }
            };
            self.log(
                Level::Warn,
                &format!(
                    "SCTP20015: pool {handle}: pool element {:08x} ({}) unreachable: {why}; reported to the registrar, trying another",
                    pe.identifier, pe.label
                ),
            );
            pools::report(handle, pe.identifier);
            last = why;
        }
        self.log(
            Level::Error,
            &format!("SCTP20016: pool {handle}: no pool element took the request: {last}"),
        );
        Err(ffi::HTTP_SERVICE_UNAVAILABLE as c_int)
    }

    /// Sends BEGIN_REQUEST and PARAMS on `stream`, and the empty STDIN
    /// when the request has no body.
    fn begin(
        &self,
        stream: &association::RequestStream,
        params: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), String> {
        let mut out = Vec::new();
        association::encode_begin(stream.id(), params, &mut out);
        if self.bodiless {
            fastcgi::encode_stream(record::STDIN, stream.id(), &[], &mut out);
        }
        stream.send_all(&out)
    }

    /// This process's backend `label` at `addrs`, made the first time it
    /// is needed.
    fn backend(&self, label: &str, addrs: Vec<SocketAddr>) -> Arc<Backend> {
        let settings = Settings {
            send_timeout: self.timeout,
            ..Settings::default()
        };
        BACKENDS.get_or_insert(label, || {
            Backend::new(label, addrs, settings, Arc::new(log::server))
        })
    }

    /// As mod_proxy does when it cannot connect: a balancer then sends the
    /// next requests to other members until the worker's retry time.
    unsafe fn mark_worker_in_error(&self) {
        if self.worker.is_null() {
            return;
        }
        // SAFETY: live worker and shared data; httpd's own code updates
        // these fields without a lock as well.
        unsafe {
            let s = (*self.worker).s;
            if !s.is_null() {
                (*s).status |= ffi::PROXY_WORKER_IN_ERROR;
                (*s).error_time = ffi::apr_time_now();
            }
        }
    }

    /// The CGI environment: httpd's common and CGI variables, the request's
    /// subprocess_env, SCRIPT_FILENAME from the URL's path.
    unsafe fn params(&self, target: &BackendUrl) -> Vec<(Vec<u8>, Vec<u8>)> {
        let r = self.r;
        let mut pairs = Vec::new();
        // SAFETY: the live request; subprocess_env is an APR table whose
        // entries are NUL-terminated strings (values may be null).
        unsafe {
            ffi::ap_add_common_vars(r);
            ffi::ap_add_cgi_vars(r);
            let arr = ffi::apr_table_elts((*r).subprocess_env);
            let n = (*arr).nelts.max(0) as usize;
            let elts = (*arr).elts as *const ffi::apr_table_entry_t;
            for i in 0..n {
                let e = &*elts.add(i);
                if e.key.is_null() {
                    continue;
                }
                let k = CStr::from_ptr(e.key).to_bytes().to_vec();
                let v = if e.val.is_null() {
                    Vec::new()
                } else {
                    CStr::from_ptr(e.val).to_bytes().to_vec()
                };
                pairs.push((k, v));
            }
        }
        if !target.path.is_empty() {
            pairs.retain(|(k, _)| k != b"SCRIPT_FILENAME");
            pairs.push((
                b"SCRIPT_FILENAME".to_vec(),
                target.path.clone().into_bytes(),
            ));
        }
        pairs
    }

    /// The request body as STDIN records, read as it arrives; then the
    /// empty STDIN record.
    unsafe fn send_body(&self, stream: &association::RequestStream) -> Result<(), c_int> {
        let r = self.r;
        // SAFETY: the live request, its pool and connection.
        let bb = unsafe { ffi::apr_brigade_create((*r).pool, (*(*r).connection).bucket_alloc) };
        let mut out = Vec::new();
        loop {
            // SAFETY: live input filter chain and brigade.
            let rv = unsafe {
                ffi::ap_get_brigade(
                    (*r).input_filters,
                    bb,
                    ffi::ap_input_mode_t_AP_MODE_READBYTES,
                    ffi::apr_read_type_e_APR_BLOCK_READ,
                    65536,
                )
            };
            if rv != 0 {
                self.log(Level::Info, "reading the request body failed");
                // SAFETY: exported httpd function.
                return Err(unsafe {
                    ffi::ap_map_http_request_error(rv, ffi::HTTP_BAD_REQUEST as c_int)
                });
            }
            let mut eos = false;
            // SAFETY: buckets of the live brigade; each is read and deleted.
            unsafe {
                while let Some(b) = brigade::first(bb) {
                    if brigade::is_type(b, std::ptr::addr_of!(ffi::apr_bucket_type_eos)) {
                        eos = true;
                    } else if !brigade::is_metadata(b) {
                        match brigade::read(b, ffi::apr_read_type_e_APR_BLOCK_READ) {
                            Ok(data) if !data.is_empty() => {
                                fastcgi::encode_stream(record::STDIN, stream.id(), data, &mut out)
                            }
                            Ok(_) => {}
                            Err(_) => {
                                brigade::cleanup(bb);
                                return Err(ffi::HTTP_BAD_REQUEST as c_int);
                            }
                        }
                    }
                    brigade::delete(b);
                }
            }
            if eos {
                fastcgi::encode_stream(record::STDIN, stream.id(), &[], &mut out);
            }
            if !out.is_empty() {
                if let Err(e) = stream.send_all(&out) {
                    self.log(
                        Level::Error,
                        &format!(
                            "SCTP20017: FastCGI backend {}: sending the request body failed: {e}",
                            stream.backend()
                        ),
                    );
                    return Err(ffi::HTTP_BAD_GATEWAY as c_int);
                }
                out.clear();
            }
            if eos {
                return Ok(());
            }
        }
    }

    /// Reads the stream's events until END_REQUEST: headers through httpd's
    /// CGI scanner, body to the client.
    unsafe fn respond(&self, stream: &mut association::RequestStream) -> c_int {
        let r = self.r;
        // SAFETY: the live request, its pool and connection.
        let bb = unsafe { ffi::apr_brigade_create((*r).pool, (*(*r).connection).bucket_alloc) };
        let mut split = HeaderSplit::new();
        // Bytes in `bb` not yet passed on.
        let mut pending = false;
        let label = stream.backend().to_string();
        let id = stream.id();
        loop {
            let ev = match stream.try_recv() {
                Some(ev) => ev,
                None => {
                    // Nothing more right now: what we have goes to the
                    // client before we wait (PHP's flush() works so).
                    if pending {
                        // SAFETY: live brigade and request.
                        if unsafe { !self.pass(bb, true) } {
                            return ffi::OK as c_int;
                        }
                        pending = false;
                    }
                    match stream.recv(self.timeout) {
                        Ok(ev) => ev,
                        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                            self.log(
                                Level::Error,
                                &format!(
                                    "SCTP20018: FastCGI backend {label}: no answer on stream {id} within {:?}: request aborted",
                                    self.timeout
                                ),
                            );
                            if !split.is_done() {
                                return ffi::HTTP_GATEWAY_TIME_OUT as c_int;
                            }
                            // SAFETY: live request and brigade.
                            unsafe { self.broke(bb) };
                            return ffi::OK as c_int;
                        }
                    }
                }
            };
            match ev {
                Event::Stdout(data) => {
                    if split.is_done() {
                        // SAFETY: live brigade.
                        unsafe { brigade::append_copy(bb, &data) };
                        pending = true;
                        continue;
                    }
                    match split.push(&data) {
                        Ok(Split::NeedMore) => {}
                        Ok(Split::Done { header, body }) => {
                            // SAFETY: the live request.
                            let status = unsafe { self.scan_headers(&header) };
                            if status != ffi::OK as c_int {
                                return status;
                            }
                            // SAFETY: the live request.
                            if let Some(to) = unsafe { self.local_redirect() } {
                                // The rest of this response is not wanted.
                                stream.abort();
                                // SAFETY: the live request.
                                unsafe { self.redirect(&to) };
                                return ffi::OK as c_int;
                            }
                            // SAFETY: live brigade.
                            unsafe { brigade::append_copy(bb, &body) };
                            pending = true;
                        }
                        Err(e) => {
                            self.log(
                                Level::Error,
                                &format!("SCTP20019: FastCGI backend {label}: {e}"),
                            );
                            return ffi::HTTP_BAD_GATEWAY as c_int;
                        }
                    }
                }
                Event::Stderr(data) => {
                    for line in String::from_utf8_lossy(&data).lines() {
                        if !line.trim().is_empty() {
                            self.log(
                                Level::Error,
                                &format!(
                                    "SCTP20020: FastCGI backend {label} (stream {id}): {line}"
                                ),
                            );
                        }
                    }
                }
                Event::End { app_status, .. } if association::backend_failed(app_status) => {
                    self.log(
                        Level::Error,
                        &format!(
                            "SCTP20021: FastCGI backend {label} could not complete the request on stream {id} (app status {app_status:#x}){}",
                            if split.is_done() { ": response truncated" } else { "" }
                        ),
                    );
                    if !split.is_done() {
                        return ffi::HTTP_BAD_GATEWAY as c_int;
                    }
                    // SAFETY: live request and brigade.
                    unsafe { self.broke(bb) };
                    return ffi::OK as c_int;
                }
                Event::End {
                    app_status,
                    protocol_status,
                } => {
                    if protocol_status != record::REQUEST_COMPLETE {
                        self.log(
                            Level::Error,
                            &format!(
                                "SCTP20022: FastCGI backend {label} refused the request on stream {id} (protocol status {protocol_status})"
                            ),
                        );
                        if !split.is_done() {
                            return ffi::HTTP_SERVICE_UNAVAILABLE as c_int;
                        }
                    }
                    if !split.is_done() {
                        self.log(
                            Level::Error,
                            &format!(
                                "SCTP20023: FastCGI backend {label} ended the request on stream {id} without response headers (app status {app_status}, {} bytes)",
                                split.held()
                            ),
                        );
                        return ffi::HTTP_BAD_GATEWAY as c_int;
                    }
                    if app_status != 0 {
                        self.log(
                            Level::Debug,
                            &format!(
                                "FastCGI backend {label}: app status {app_status} on stream {id}"
                            ),
                        );
                    }
                    // SAFETY: live brigade, request and allocator.
                    unsafe {
                        brigade::append(bb, ffi::apr_bucket_eos_create((*bb).bucket_alloc));
                        self.pass(bb, false);
                    }
                    return ffi::OK as c_int;
                }
                Event::Broken(why) => {
                    self.log(
                        Level::Error,
                        &format!(
                            "SCTP20024: FastCGI backend {label}: association lost during the request on stream {id} ({why}){}",
                            if split.is_done() { ": response truncated" } else { "" }
                        ),
                    );
                    if !split.is_done() {
                        return ffi::HTTP_BAD_GATEWAY as c_int;
                    }
                    // SAFETY: live request and brigade.
                    unsafe { self.broke(bb) };
                    return ffi::OK as c_int;
                }
            }
        }
    }

    /// httpd's CGI header scanner (Status, Location, Content-Type, the rest
    /// into headers_out, conditional requests). OK, or the status to answer.
    unsafe fn scan_headers(&self, header: &[u8]) -> c_int {
        // The block ends with its empty line, where the scanner stops.
        let Ok(text) = CString::new(header) else {
            return ffi::HTTP_BAD_GATEWAY as c_int;
        };
        // SAFETY: the live request; the variadic list is one NUL-terminated
        // string and the terminating null pointer the function expects.
        let rc = unsafe {
            ffi::ap_scan_script_header_err_strs_ex(
                self.r,
                std::ptr::null_mut(),
                log::module_index(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                text.as_ptr(),
                std::ptr::null::<c_char>(),
            )
        };
        if rc == ffi::OK as c_int {
            return rc;
        }
        if rc == ffi::HTTP_NOT_MODIFIED as c_int || rc == ffi::HTTP_PRECONDITION_FAILED as c_int {
            // The conditional request is answered without the body.
            return rc;
        }
        self.log(
            Level::Error,
            &format!(
                "SCTP20025: FastCGI backend sent response headers httpd cannot use (status {rc})"
            ),
        );
        ffi::HTTP_BAD_GATEWAY as c_int
    }

    /// A CGI local redirect: status 200 with a `Location` that is a path
    /// (RFC 3875 6.2.2): httpd serves that path instead, as mod_cgi does.
    unsafe fn local_redirect(&self) -> Option<CString> {
        // SAFETY: the live request and its tables.
        unsafe {
            if (*self.r).status != ffi::HTTP_OK as c_int {
                return None;
            }
            let loc = ffi::apr_table_get((*self.r).headers_out, c"Location".as_ptr());
            if loc.is_null() || *loc != b'/' as c_char {
                return None;
            }
            Some(CStr::from_ptr(loc).to_owned())
        }
    }

    unsafe fn redirect(&self, to: &CStr) {
        self.log(
            Level::Debug,
            &format!("local redirect to {}", to.to_string_lossy()),
        );
        // SAFETY: the live request; the method string is static; the
        // redirect copies `to` into the new request's pool.
        unsafe {
            (*self.r).method = c"GET".as_ptr();
            (*self.r).method_number = ffi::M_GET as c_int;
            ffi::apr_table_unset((*self.r).headers_in, c"Content-Length".as_ptr());
            ffi::ap_internal_redirect_handler(to.as_ptr(), self.r);
        }
    }

    /// Passes `bb` down the output filters (with a FLUSH when `flush`).
    /// False when the client is gone.
    unsafe fn pass(&self, bb: *mut ffi::apr_bucket_brigade, flush: bool) -> bool {
        // SAFETY: live brigade and request.
        unsafe {
            if flush {
                brigade::append(bb, ffi::apr_bucket_flush_create((*bb).bucket_alloc));
            }
            let rv = ffi::ap_pass_brigade((*self.r).output_filters, bb);
            brigade::cleanup(bb);
            if rv != 0 || (*(*self.r).connection).aborted != 0 {
                self.log(Level::Debug, "client gone: FastCGI request aborted");
                return false;
            }
        }
        true
    }

    /// The response was cut short: mod_proxy's way of telling the filters
    /// (an error bucket, the connection not kept alive).
    unsafe fn broke(&self, bb: *mut ffi::apr_bucket_brigade) {
        // SAFETY: exported by mod_proxy; live request and brigade.
        unsafe {
            ffi::ap_proxy_backend_broke(self.r, bb);
            ffi::ap_pass_brigade((*self.r).output_filters, bb);
            brigade::cleanup(bb);
        }
    }
}
