//! Dependency-free SVG charts: white background, 12px sans-serif text,
//! light grey grid, Okabe-Ito (colour-blind-safe) palette, y from 0.
//! Non-finite values are skipped; empty input draws "no data".
//!
//! Hand-written rather than `plotters`: the report needs two chart kinds
//! (lines with min-max bars, bars with whiskers) as static SVG text that
//! diffs well in git. This file does that in about 400 lines with no
//! dependency; `plotters` with its SVG backend would add its own crate
//! tree (text layout needs font support, by default the system's fonts) and
//! still need code of ours for the spread bars, captions and legends.
//! Revisit if a third chart kind is wanted.

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
/// Okabe-Ito without the yellow, which is too pale on white.
const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
];

/// One line of a [`line_chart`]: (x, y) points, drawn in ascending x, and
/// the spread of the runs behind them, (x, low, high) each: a vertical bar
/// with caps at x (e.g. the runs' minimum and maximum).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub spread: Vec<(f64, f64, f64)>,
}

/// One bar of a [`bar_chart`]; `spread` is the runs' (low, high) around
/// its value (e.g. minimum and maximum), drawn as a whisker with caps.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub spread: Option<(f64, f64)>,
}

/// Ticks `0, s, 2s, ..` up to the first multiple of `s` covering `max`,
/// with `s` in 1/2/5×10^k giving about `target` intervals. `[0, 1]` when
/// `max` is not a positive finite number.
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let raw = max / target.max(1) as f64;
    let k = raw.log10().floor() as i32;
    let norm = raw / 10f64.powi(k);
    let m = [1.0, 2.0, 5.0]
        .into_iter()
        .find(|&m| m >= norm * (1.0 - 1e-9))
        .unwrap_or(10.0);
    // Dividing by an exact power of ten keeps 3 × 0.2 at 0.6.
    let (mul, div) = (10f64.powi(k.max(0)), 10f64.powi(-k.min(0)));
    let at = |i: usize| i as f64 * m * mul / div;
    let step = at(1);
    if !(step.is_finite() && step > 0.0) {
        return vec![0.0, 1.0];
    }
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    let t: Vec<f64> = (0..=n).map(at).collect();
    if t[n].is_finite() {
        t
    } else {
        vec![0.0, max]
    }
}

fn esc(s: &str) -> String {
    let s = s.replace('&', "&amp;").replace('<', "&lt;");
    s.replace('>', "&gt;").replace('"', "&quot;")
}

/// `v` rounded to `sig` significant digits, as (rounded value, decimals).
fn round_sig(v: f64, sig: i32) -> (f64, usize) {
    if v == 0.0 || !v.is_finite() {
        return (v, 0);
    }
    let scale = 10f64.powi(v.abs().log10().floor() as i32 + 1 - sig);
    let r = (v / scale).round() * scale;
    let decimals = sig - 1 - r.abs().log10().floor() as i32;
    (r, decimals.max(0) as usize)
}

/// Exactly three significant digits ("1.50", "12.3", "1230").
fn sig3(v: f64) -> String {
    let (r, d) = round_sig(v, 3);
    format!("{r:.d$}")
}

/// Axis labels: up to 6 significant digits, no trailing zeros, k/M/G
/// from 10 000 on.
fn tick(v: f64) -> String {
    let (v, unit) = match v.abs() {
        a if a >= 1e10 => (v / 1e9, "G"),
        a if a >= 1e7 => (v / 1e6, "M"),
        a if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let (r, d) = round_sig(v, 6);
    let s = format!("{r:.d$}");
    let s = if d > 0 {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    (if s == "-0" { "0" } else { s }).to_string() + unit
}

const MID: &str = " text-anchor=\"middle\"";
const GRID: &str = "stroke=\"#e0e0e0\"";

fn text(s: &mut String, x: f64, y: f64, attrs: &str, body: &str) {
    *s += &format!("<text x=\"{x:.1}\" y=\"{y:.1}\"{attrs}>{body}</text>\n");
}

fn line(s: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
    *s += &format!("<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" {style}/>\n");
}

fn open(title: &str) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let bold = format!("{MID} font-size=\"14\" font-weight=\"bold\"");
    text(&mut s, W / 2.0, 24.0, &bold, &esc(title));
    s
}

fn no_data(title: &str) -> String {
    let mut s = open(title);
    text(&mut s, W / 2.0, H / 2.0, MID, "no data");
    s + "</svg>\n"
}

/// Y grid, tick labels, axes and the rotated y label of a plot area that
/// ends at `bottom`; returns the value at the top of the area.
fn y_axis(s: &mut String, y_label: &str, yt: &[f64], bottom: f64) -> f64 {
    let top_v = yt[yt.len() - 1];
    for &t in yt {
        let y = bottom - t / top_v * (bottom - TOP);
        line(s, (LEFT, y), (W - RIGHT, y), GRID);
        text(s, LEFT - 6.0, y + 4.0, " text-anchor=\"end\"", &tick(t));
    }
    *s += &format!(
        "<path d=\"M{LEFT},{TOP} V{bottom} H{}\" fill=\"none\" stroke=\"#333\"/>\n",
        W - RIGHT
    );
    let mid = (TOP + bottom) / 2.0;
    let attrs = format!("{MID} transform=\"rotate(-90 16 {mid:.1})\"");
    text(s, 16.0, mid, &attrs, &esc(y_label));
    top_v
}

/// Lines with circle markers, one colour per series, over x from the
/// smallest to the largest x and y from 0 to a nice ceiling; ticks at the
/// x values when there are at most 8 distinct ones. A legend of all
/// series names sits top-left. Negative y values are drawn at 0.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    let clean: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            let mut p: Vec<_> = s.points.iter().copied().filter(finite).collect();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            p
        })
        .collect();
    let mut xs: Vec<f64> = clean.iter().flatten().map(|p| p.0).collect();
    if xs.is_empty() {
        return no_data(title);
    }
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (mut x0, mut x1) = (xs[0], xs[xs.len() - 1]);
    if x0 == x1 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    }
    let xt = if xs.len() <= 8 {
        xs
    } else {
        let step = nice_ticks(x1 - x0, 6)[1];
        let (a, b) = ((x0 / step).ceil() as i64, (x1 / step).floor() as i64);
        (a..=b).map(|i| i as f64 * step).collect()
    };
    let ymax = clean.iter().flatten().fold(0.0, |m: f64, p| m.max(p.1));
    let ymax = series
        .iter()
        .flat_map(|s| s.spread.iter())
        .filter(|(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite())
        .fold(ymax, |m: f64, p| m.max(p.2));
    let bottom = H - 52.0;
    let mut s = open(title);
    let top_v = y_axis(&mut s, y_label, &nice_ticks(ymax, 5), bottom);
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| bottom - y.max(0.0) / top_v * (bottom - TOP);
    for &t in &xt {
        line(&mut s, (px(t), TOP), (px(t), bottom), GRID);
        text(&mut s, px(t), bottom + 16.0, MID, &tick(t));
    }
    let xc = (LEFT + W - RIGHT) / 2.0;
    text(&mut s, xc, H - 12.0, MID, &esc(x_label));
    // Past the palette, colours repeat with dashed lines.
    let dash = |i: usize| {
        if i >= PALETTE.len() {
            " stroke-dasharray=\"6 3\""
        } else {
            ""
        }
    };
    for (i, pts) in clean.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let xy: Vec<_> = pts.iter().map(|&(x, y)| (px(x), py(y))).collect();
        if !xy.is_empty() {
            let coords: Vec<_> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let coords = coords.join(" ");
            s += &format!(
                "<polyline points=\"{coords}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"{}/>\n",
                dash(i)
            );
        }
        for (x, y) in xy {
            s += &format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{c}\"/>\n");
        }
        // The spread, nudged sideways per series so that bars at one x do
        // not hide each other.
        let nudge = (i as f64 - (series.len() as f64 - 1.0) / 2.0) * 4.0;
        let style = format!("stroke=\"{c}\" stroke-width=\"1\"");
        for &(x, lo, hi) in &series[i].spread {
            if !(x.is_finite() && lo.is_finite() && hi.is_finite()) || x < x0 || x > x1 {
                continue;
            }
            let xx = px(x) + nudge;
            line(&mut s, (xx, py(lo)), (xx, py(hi)), &style);
            line(&mut s, (xx - 3.0, py(lo)), (xx + 3.0, py(lo)), &style);
            line(&mut s, (xx - 3.0, py(hi)), (xx + 3.0, py(hi)), &style);
        }
    }
    let chars = series.iter().map(|s| s.name.chars().count());
    let (lw, lh) = (38 + 7 * chars.max().unwrap_or(0), 8 + 18 * series.len());
    let (lx, ly) = (LEFT + 8.0, TOP + 8.0);
    s += &format!(
        "<rect x=\"{lx}\" y=\"{ly}\" width=\"{lw}\" height=\"{lh}\" fill=\"white\" \
         fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n"
    );
    for (i, se) in series.iter().enumerate() {
        let (c, y) = (PALETTE[i % PALETTE.len()], ly + 17.0 + 18.0 * i as f64);
        let style = format!("stroke=\"{c}\" stroke-width=\"2\"{}", dash(i));
        line(&mut s, (lx + 8.0, y), (lx + 26.0, y), &style);
        let cx = lx + 17.0;
        s += &format!("<circle cx=\"{cx}\" cy=\"{y}\" r=\"3\" fill=\"{c}\"/>\n");
        text(&mut s, lx + 32.0, y + 4.0, "", &esc(&se.name));
    }
    s + "</svg>\n"
}

/// Vertical bars from 0 with their value (3 significant digits) on top,
/// an optional whisker (thin line with caps from `spread`'s low to high) and the
/// label underneath, rotated -30° beyond 6 bars. Bars with a non-finite
/// value keep their slot and label but draw nothing; negatives draw at 0.
pub fn bar_chart(title: &str, y_label: &str, bars: &[Bar]) -> String {
    let fin = |v: Option<f64>| v.filter(|v| v.is_finite());
    if !bars.iter().any(|b| b.value.is_finite()) {
        return no_data(title);
    }
    let all = bars
        .iter()
        .flat_map(|b| [fin(Some(b.value)), fin(b.spread.map(|w| w.1))]);
    let yt = nice_ticks(all.flatten().fold(0.0, f64::max), 5);
    let rotate = bars.len() > 6;
    let bottom = H - if rotate { 90.0 } else { 52.0 };
    let mut s = open(title);
    let top_v = y_axis(&mut s, y_label, &yt, bottom);
    let py = |y: f64| bottom - y.max(0.0) / top_v * (bottom - TOP);
    let band = (W - LEFT - RIGHT) / bars.len() as f64;
    for (i, b) in bars.iter().enumerate() {
        let cx = LEFT + band * (i as f64 + 0.5);
        if let Some(v) = fin(Some(b.value)) {
            let (x, y, w, h) = (cx - band * 0.3, py(v), band * 0.6, bottom - py(v));
            s += &format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>\n",
                PALETTE[0]
            );
            let mut value_y = y;
            if let Some((lo, hi)) = b.spread.filter(|w| w.0.is_finite() && w.1.is_finite()) {
                let style = "stroke=\"#333\" stroke-width=\"1.5\"";
                let (ly, hy, cap) = (py(lo), py(hi), band * 0.12);
                line(&mut s, (cx, ly), (cx, hy), style);
                line(&mut s, (cx - cap, ly), (cx + cap, ly), style);
                line(&mut s, (cx - cap, hy), (cx + cap, hy), style);
                value_y = value_y.min(hy);
            }
            text(&mut s, cx, value_y - 5.0, MID, &sig3(v));
        }
        let ty = bottom + 16.0;
        let attrs = if rotate {
            format!(" text-anchor=\"end\" transform=\"rotate(-30 {cx:.1} {ty:.1})\"")
        } else {
            MID.to_string()
        };
        text(&mut s, cx, ty, &attrs, &esc(&b.label));
    }
    s + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        let (name, points) = (name.into(), points.to_vec());
        let spread = points.iter().map(|&(x, y)| (x, y * 0.9, y * 1.1)).collect();
        Series {
            name,
            points,
            spread,
        }
    }

    fn bar(label: &str, value: f64, whisker: Option<f64>) -> Bar {
        let label = label.into();
        Bar {
            label,
            value,
            spread: whisker.map(|w| (value * 0.9, w)),
        }
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>\n"), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn ticks() {
        assert_eq!(nice_ticks(97.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(100.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(0.55, 5), [0.0, 0.2, 0.4, 0.6]);
        assert_eq!(nice_ticks(7.0, 3), [0.0, 5.0, 10.0]);
        assert_eq!(nice_ticks(3.0, 0), [0.0, 5.0]);
        for bad in [0.0, -4.0, f64::NAN, f64::INFINITY] {
            assert_eq!(nice_ticks(bad, 5), [0.0, 1.0]);
        }
        for max in [1e-320, 1e-300, 1e300, f64::MAX] {
            let t = nice_ticks(max, 5);
            assert!(
                (2..=12).contains(&t.len()) && t.iter().all(|v| v.is_finite()),
                "{t:?}"
            );
        }
    }

    #[test]
    fn number_formats() {
        let sig = [
            (1.5, "1.50"),
            (12.345, "12.3"),
            (99.96, "100"),
            (12345.0, "12300"),
        ];
        for (v, want) in sig.into_iter().chain([(0.012345, "0.0123"), (0.0, "0")]) {
            assert_eq!(sig3(v), want);
        }
        let ticks = [(0.6000000000000001, "0.6"), (250.0, "250"), (2e4, "20k")];
        for (v, want) in ticks.into_iter().chain([(1.5e8, "150M"), (-0.0, "0")]) {
            assert_eq!(tick(v), want);
        }
    }

    #[test]
    fn line_charts() {
        let svg = line_chart(
            "t <a&b>",
            "loss (%)",
            "ms",
            &[
                series("sctp", &[(0.0, 10.0), (1.0, f64::NAN), (2.0, 30.0)]),
                series("tcp \"1\"", &[(f64::INFINITY, 5.0), (1.0, 20.0)]),
                series("empty", &[(1.0, f64::NAN)]),
            ],
        );
        well_formed(&svg);
        assert!(svg.contains("t &lt;a&amp;b&gt;") && !svg.contains("<a&b>"));
        for name in [">sctp<", ">tcp &quot;1&quot;<", ">empty<"] {
            assert!(svg.contains(name), "{name}");
        }
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3 + 3); // markers + legend
        let pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64 * 0.5, i as f64)).collect();
        let svg = line_chart("many", "x", "y", &[series("a", &pts)]);
        well_formed(&svg);
        assert!(svg.contains(">8<") && !svg.contains(">0.5<"));
        let svg = line_chart("one", "x", "y", &[series("a", &[(3.0, 0.0)])]);
        well_formed(&svg);
        assert_eq!(svg.matches("<polyline").count(), 1);
        // Eight series: the eighth repeats the first colour, dashed (its
        // line and its legend entry).
        let eight: Vec<Series> = (0..8)
            .map(|i| series(&format!("s{i}"), &[(0.0, i as f64), (1.0, 1.0)]))
            .collect();
        let svg = line_chart("eight", "x", "y", &eight);
        well_formed(&svg);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
    }

    #[test]
    fn bar_charts() {
        let bars = [
            bar("pump", 950.0, None),
            bar("mod_sctp", 901.23, Some(1210.0)),
            bar("x&y", f64::NAN, None),
        ];
        let svg = bar_chart("bars <a&b>", "MB/s", &bars);
        well_formed(&svg);
        assert!(svg.contains("bars &lt;a&amp;b&gt;") && svg.contains(">x&amp;y<"));
        assert!(svg.contains(">950<") && svg.contains(">901<") && svg.contains(">1500<"));
        assert_eq!(svg.matches("<rect").count(), 1 + 2);
        assert!(!svg.contains("rotate(-30"));
        let many: Vec<Bar> = (0..7)
            .map(|i| bar("b", i as f64, Some(f64::MAX * 2.0)))
            .collect();
        let svg = bar_chart("many", "y", &many);
        well_formed(&svg);
        assert_eq!(svg.matches("rotate(-30").count(), 7);
    }

    #[test]
    fn empty_inputs_say_no_data() {
        for svg in [
            line_chart("e", "x", "y", &[]),
            line_chart("e", "x", "y", &[series("a", &[(f64::NAN, 1.0)])]),
            bar_chart("e", "y", &[]),
            bar_chart("e", "y", &[bar("a", f64::NAN, Some(3.0))]),
        ] {
            well_formed(&svg);
            assert!(svg.contains("no data") && !svg.contains("<polyline"));
        }
    }
}
