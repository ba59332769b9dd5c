//! Generates the httpd (and mod_proxy) bindings from the system headers:
//! apxs tells where httpd's headers are; APR's include paths, defines and
//! bindings come from apr-sctp's build script, as DEP_APR_1_*: every item
//! apr-sctp's bindings define is used from there, not generated again.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn apxs_query(var: &str) -> Option<String> {
    let apxs = env::var("APXS").unwrap_or_else(|_| "apxs".into());
    let out = Command::new(apxs).args(["-q", var]).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-env-changed=APXS");
    let httpd_inc = apxs_query("INCLUDEDIR").unwrap_or_else(|| "/usr/include/apache2".into());
    let apr_include = env::var("DEP_APR_1_INCLUDE").expect("apr-sctp exports APR's include paths");
    let apr_defines = env::var("DEP_APR_1_DEFINES").unwrap_or_default();

    let mut b = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg(format!("-I{httpd_inc}"))
        .allowlist_function("ap_.*|apr_.*|proxy_hook_.*")
        .allowlist_type("ap_.*|apr_.*|request_rec|conn_rec|server_rec|module|command_rec|cmd_parms|process_rec|core_.*|proxy_.*")
        .allowlist_var("ap_.*|apr_bucket_type_.*|AP_.*|APR_.*|APLOG_.*|MODULE_MAGIC_.*|OK|DECLINED|DONE|RSRC_CONF|ACCESS_CONF|OR_.*|HTTP_.*|DECLINE_CMD|NOT_IN_.*|GLOBAL_ONLY|M_GET|PROXY_WORKER_.*")
        .raw_line("#[allow(unused_imports)]\nuse apr_sctp::sys::*;")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    // APR's types, functions and constants (and the system types they use)
    // come from apr-sctp, one binding of APR in the workspace: every item
    // apr-sctp's bindings define is left out here and referred to by name
    // through the `use` above. httpd's own items (its optional-function
    // types apr_OFN_* included) are generated here.
    let apr_bindings = env::var("DEP_APR_1_BINDINGS").expect("apr-sctp exports its bindings' path");
    println!("cargo:rerun-if-changed={apr_bindings}");
    let apr_text = std::fs::read_to_string(&apr_bindings).expect("apr-sctp's bindings");
    for name in defined_items(&apr_text) {
        b = b.blocklist_item(format!("^{name}$"));
    }
    for p in apr_include.split(':').filter(|p| !p.is_empty()) {
        b = b.clang_arg(format!("-I{p}"));
    }
    for d in apr_defines.split_whitespace() {
        b = b.clang_arg(format!("-D{d}"));
    }
    let bindings = b.generate().expect("bindgen over the httpd headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindings
        .write_to_file(out.join("httpd_bindings.rs"))
        .expect("write httpd_bindings.rs");
}

/// The names a bindgen output defines at its top level (`pub struct X`,
/// `pub type X`, `pub fn X`, `pub const X`, `pub static X`, unions, enums).
fn defined_items(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        for kw in [
            "pub struct ",
            "pub union ",
            "pub enum ",
            "pub type ",
            "pub fn ",
            "pub const ",
            "pub static mut ",
            "pub static ",
        ] {
            if let Some(rest) = t.strip_prefix(kw) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    v.push(name);
                }
                break;
            }
        }
    }
    v.sort();
    v.dedup();
    v
}
