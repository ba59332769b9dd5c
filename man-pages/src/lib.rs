//! The man pages of the workspace's tools are rendered from their clap
//! command lines (clap_mangen) and committed, so that the Debian package
//! ships them without a build step; [`check`] renders them again and says
//! which differ, so they cannot drift from the command line.

use std::path::Path;

/// Renders `cmd`'s pages into memory: `BASE.SECTION` for the command and
/// `BASE-SUB.SECTION` for each subcommand (clap's `help` left out).
pub fn render(cmd: clap::Command, base: &str, section: &str) -> Vec<(String, Vec<u8>)> {
    let mut cmd = cmd;
    cmd.build();
    let mut pages = vec![(format!("{base}.{section}"), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{base}-{}", sub.get_name());
        // clap wants the page's command name as a 'static str (or its
        // `string` feature); these few names live as long as the test.
        let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
        pages.push((format!("{name}.{section}"), sub.clone().name(leaked)));
    }
    pages
        .into_iter()
        .map(|(file, c)| {
            let mut out = Vec::new();
            // Rendering into a Vec cannot fail for I/O reasons.
            let _ = clap_mangen::Man::new(c).section(section).render(&mut out);
            (file, out)
        })
        .collect()
}

/// Compares the rendered pages with the files in `dir`; with `UPDATE_MAN`
/// set in the environment, writes them first. Returns the files that
/// differ (empty: all match).
pub fn check(cmd: clap::Command, base: &str, section: &str, dir: &Path) -> Vec<String> {
    let update = std::env::var_os("UPDATE_MAN").is_some();
    render(cmd, base, section)
        .into_iter()
        .filter_map(|(file, out)| {
            let path = dir.join(&file);
            if update {
                let _ = std::fs::write(&path, &out);
            }
            (std::fs::read(&path).ok().as_deref() != Some(&out[..])).then_some(file)
        })
        .collect()
}
