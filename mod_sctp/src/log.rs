//! mod_sctp's lines in httpd's error log: the workspace's bridge
//! (`httpd_module::log`) with mod_sctp's module index, so that
//! `LogLevel sctp:debug` controls mod_sctp's and apr-sctp's `tracing`
//! events; apr-sctp's lines say so.

use httpd_module::log::Module;
pub use httpd_module::log::{set_server, write_server};

static MODULE: Module = Module {
    index: module_index,
    name: "mod_sctp",
    prefixes: &[("apr_sctp", "apr-sctp: ")],
};

fn module_index() -> std::os::raw::c_int {
    std::os::raw::c_int::try_from(crate::module_index()).unwrap_or(-1)
}

/// Installs the bridge (pre_config; once per mapping of the DSO).
pub fn init() {
    httpd_module::log::init(&MODULE);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Every `SCTPnnnnn` id in the sources of the crates whose lines reach
    /// httpd's error log (mod_sctp's, apr-sctp's, mod_proxy_fcgi_sctp's):
    /// where each is used.
    fn ids_in_sources() -> BTreeMap<String, Vec<String>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut dirs = vec![
            root.join("mod_sctp/src"),
            root.join("apr-sctp/src"),
            root.join("httpd-module/src"),
            root.join("mod_proxy_fcgi_sctp/src"),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("source directory").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).expect("source file");
                    for id in find_ids(&text) {
                        ids.entry(id).or_default().push(p.display().to_string());
                    }
                }
            }
        }
        ids
    }

    fn find_ids(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        (0..b.len().saturating_sub(8))
            .filter(|&i| {
                text.get(i..i + 4) == Some("SCTP")
                    && b.get(i + 4..i + 9)
                        .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                    && !b.get(i + 9).is_some_and(u8::is_ascii_digit)
                    && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            })
            .filter_map(|i| text.get(i..i + 9).map(str::to_string))
            .collect()
    }

    /// The message ids are stable and documented: each is used at one place
    /// in the code and listed in docs/directives.md's table.
    #[test]
    fn every_message_id_is_used_once_and_documented() {
        let docs = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/directives.md"),
        )
        .expect("docs/directives.md");
        let ids = ids_in_sources();
        assert!(ids.len() >= 10, "ids found: {ids:?}");
        for (id, places) in &ids {
            assert!(
                places.len() <= 1,
                "{id} is used at several places: {places:?}"
            );
            assert!(
                docs.contains(&format!("| `{id}` |")),
                "{id} is not in docs/directives.md's table of message ids"
            );
        }
    }
}
