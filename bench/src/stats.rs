//! Sans-I/O statistics over benchmark samples (milliseconds, bytes/s, ...):
//! the order statistics are sctp-http's (`sctp_http::stats`, one definition
//! of a percentile for the client's own summary and the report), the table
//! formatting and the Mathis limit are the report's.

pub use sctp_http::stats::{percentile, ratio, summarize, Summary};

/// A table cell: one decimal below 100 ("12.3"), none from 100 on ("123"),
/// "—" for NaN or infinities. 99.96 rounds up, so it prints as "100".
pub fn fmt_ms(v: f64) -> String {
    match v {
        v if !v.is_finite() => "—".into(),
        v if v.abs() < 99.95 => format!("{v:.1}"),
        v => format!("{v:.0}"),
    }
}

/// The loss-limited rate of one congestion window (Mathis, Semke, Mahdavi,
/// Ott 1997): at most `mss / rtt × sqrt(3 / (2p))` bytes per second for a
/// payload of `mss` bytes per packet, a round trip of `rtt_s` seconds and
/// a packet loss rate `p` (0..1), every packet acknowledged (with a SACK
/// for every second packet the constant is sqrt(3/4), 1/√2 of it). `None`
/// without loss: no limit.
pub fn mathis_rate(mss: f64, rtt_s: f64, p: f64) -> Option<f64> {
    (p > 0.0 && rtt_s > 0.0).then(|| mss / rtt_s * (1.5 / p).sqrt())
}

/// The least time (ms) to move `bytes` with `flows` such windows at loss
/// `p`, never faster than the link's `link_bytes_per_s`; `None` without
/// loss.
pub fn mathis_ms(bytes: f64, mss: f64, rtt_s: f64, p: f64, flows: u32, link: f64) -> Option<f64> {
    let rate = mathis_rate(mss, rtt_s, p)? * flows.max(1) as f64;
    Some(bytes / rate.min(link) * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        let cases = [
            (12.34, "12.3"),
            (99.9, "99.9"),
            (99.96, "100"),
            (123.4, "123"),
        ];
        for (v, want) in cases.into_iter().chain([(0.0, "0.0"), (f64::NAN, "—")]) {
            assert_eq!(fmt_ms(v), want);
        }
        assert_eq!(fmt_ms(f64::INFINITY), "—");
    }

    #[test]
    fn mathis_limit() {
        // 1448 bytes per 100 ms round trip at 1% loss: 14480 × sqrt(150).
        let r = mathis_rate(1448.0, 0.1, 0.01).unwrap();
        assert!((r - 177_343.06).abs() < 0.01, "{r}");
        assert_eq!(mathis_rate(1448.0, 0.1, 0.0), None);
        // The page (1.5 MB) at 1% loss: 8.87 s in one window, a sixth of
        // that in six; at 3% sqrt(3) longer.
        let page = 1_572_864.0;
        let link = 20e6 / 8.0;
        let one = mathis_ms(page, 1448.0, 0.1, 0.01, 1, link).unwrap();
        assert!((one - 8869.1).abs() < 0.1, "{one}");
        let six = mathis_ms(page, 1448.0, 0.1, 0.01, 6, link).unwrap();
        assert!((six - one / 6.0).abs() < 1e-6, "{six}");
        let three = mathis_ms(page, 1448.0, 0.1, 0.03, 1, link).unwrap();
        assert!((three / one - 3f64.sqrt()).abs() < 1e-9);
        // Little loss: the link (20 Mbit/s) is the limit, 629 ms.
        let tiny = mathis_ms(page, 1448.0, 0.1, 1e-6, 6, link).unwrap();
        assert!((tiny - 629.1).abs() < 0.1, "{tiny}");
        assert_eq!(mathis_ms(page, 1448.0, 0.1, 0.0, 1, link), None);
    }
}
