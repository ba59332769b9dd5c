//! fcgi-bridge: to be written (issue 5).
fn main() {}
