//! The module is loaded into httpd, which provides every ap_* and apr_*
//! symbol: leave them undefined in the .so (as apxs-built modules do). The
//! bindings themselves come from httpd-sys; mod_proxy's symbols come from
//! mod_proxy.so, which must be loaded first.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,--allow-shlib-undefined");
}
