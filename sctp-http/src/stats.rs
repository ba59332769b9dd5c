//! Order statistics over samples (sans-I/O): one definition of a
//! percentile for `sctp-http bench`'s summary and the benchmark report
//! (`sctp-bench`, which re-exports this module).

/// Order statistics of a set of finite samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub mean: f64,
    pub median: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The `p`-th percentile (`p` in 0..=100, clamped) of an ascending slice.
///
/// Definition "R-7" (numpy's and Excel's `PERCENTILE.INC` default): with
/// `n` samples, `h = (n - 1) * p / 100`; the result interpolates linearly
/// between `sorted[floor(h)]` and `sorted[ceil(h)]`. So p0 is the minimum,
/// p100 the maximum, and for 1..=100 the median is 50.5 and p95 is 95.05.
/// An empty slice or a NaN `p` gives `f64::NAN`; it never panics.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() || p.is_nan() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 100.0) / 100.0;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi.min(sorted.len() - 1)]);
    a + (h - lo as f64) * (b - a)
}

/// Summary of the finite samples (NaN and infinities are ignored); `None`
/// when none are left.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(Summary {
        n: v.len(),
        min: v[0],
        mean: v.iter().sum::<f64>() / v.len() as f64,
        median: percentile(&v, 50.0),
        p95: percentile(&v, 95.0),
        p99: percentile(&v, 99.0),
        max: v[v.len() - 1],
    })
}

/// `a / b`; `None` when `b` is zero or either value is not finite.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite() && b != 0.0).then(|| a / b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn known_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        for (p, want) in [
            (50.0, 50.5),
            (95.0, 95.05),
            (99.0, 99.01),
            (0.0, 1.0),
            (100.0, 100.0),
        ] {
            assert!(close(percentile(&v, p), want), "p{p}");
        }
        assert_eq!((percentile(&v, 250.0), percentile(&v, -3.0)), (100.0, 1.0));
        assert!(close(percentile(&[1.0, 2.0, 3.0, 4.0], 25.0), 1.75));
        let s = summarize(&v).unwrap();
        assert_eq!((s.n, s.min, s.max), (100, 1.0, 100.0));
        assert!(close(s.mean, 50.5) && close(s.median, 50.5) && close(s.p95, 95.05));
        let s = summarize(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
    }

    #[test]
    fn single_empty_and_non_finite() {
        let s = summarize(&[7.5]).unwrap();
        assert_eq!([s.min, s.mean, s.median, s.p95, s.p99, s.max], [7.5; 6]);
        assert_eq!(s.n, 1);
        assert_eq!(summarize(&[]), None);
        assert!(percentile(&[], 50.0).is_nan() && percentile(&[1.0], f64::NAN).is_nan());
        assert_eq!(
            summarize(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
            None
        );
        let s = summarize(&[f64::NAN, 2.0, f64::INFINITY, 4.0]).unwrap();
        assert_eq!(
            (s.n, s.min, s.mean, s.median, s.max),
            (2, 2.0, 3.0, 3.0, 4.0)
        );
    }

    #[test]
    fn ratio_edges() {
        assert_eq!((ratio(3.0, 2.0), ratio(0.0, 2.0)), (Some(1.5), Some(0.0)));
        for (a, b) in [
            (1.0, 0.0),
            (1.0, -0.0),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
        ] {
            assert_eq!(ratio(a, b), None, "{a}/{b}");
        }
    }
}
