//! Generates the httpd (APR, mod_proxy) bindings from the system headers: apxs
//! tells where httpd's headers are; APR's include paths and defines come
//! from apr-sctp's build script (pkg-config), as DEP_APR_1_*.

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
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
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
