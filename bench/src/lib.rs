//! The benchmarks' sans-I/O parts: client output parsers, statistics,
//! plots and the RESULTS.md report. bench/run drives the I/O.
pub mod adu_report;
pub mod h3plan;
pub mod plot;
pub mod records;
pub mod report;
pub mod stats;
