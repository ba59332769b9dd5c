//! Generates the APR bindings from the system headers that pkg-config finds.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    let apr = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("apr-1")
        .expect("pkg-config apr-1 (libapr1-dev)");
    let aprutil = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("apr-util-1")
        .expect("pkg-config apr-util-1 (libaprutil1-dev)");

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_function("apr_.*")
        .allowlist_type("apr_.*")
        .allowlist_var("APR_.*")
        // The bucket types, so callers can tell heap from immortal buckets.
        .allowlist_var("apr_bucket_type_.*")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for p in apr.include_paths.iter().chain(aprutil.include_paths.iter()) {
        builder = builder.clang_arg(format!("-I{}", p.display()));
    }
    for (k, v) in apr.defines.iter() {
        builder = builder.clang_arg(match v {
            Some(v) => format!("-D{k}={v}"),
            None => format!("-D{k}"),
        });
    }
    let bindings = builder.generate().expect("bindgen over the APR headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindings
        .write_to_file(out.join("apr_bindings.rs"))
        .expect("write apr_bindings.rs");

    // Link against the system APR: the library is loaded into httpd, which
    // already has these, and the C ABI users link them too.
    println!("cargo:rustc-link-lib=apr-1");
    println!("cargo:rustc-link-lib=aprutil-1");
    // Let dependants (mod_sctp's build script) use the same include paths
    // and defines: they arrive there as DEP_APR_1_INCLUDE / DEP_APR_1_DEFINES.
    let mut inc: Vec<String> = Vec::new();
    for p in apr.include_paths.iter().chain(aprutil.include_paths.iter()) {
        let p = p.display().to_string();
        if !inc.contains(&p) {
            inc.push(p);
        }
    }
    println!("cargo:include={}", inc.join(":"));
    let defs: Vec<String> = apr
        .defines
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect();
    println!("cargo:defines={}", defs.join(" "));
    // And the generated file: httpd-sys takes every item defined there from
    // here instead of generating its own copy (DEP_APR_1_BINDINGS).
    println!("cargo:bindings={}", out.join("apr_bindings.rs").display());
}
