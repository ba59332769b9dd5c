//! Section 9 of RESULTS.md: the ADU scenario's records (bench/src/adu.rs,
//! `{"s":"adu"}`) as two tables, sans-I/O.

use crate::stats::{fmt_ms, ratio, summarize, Summary};
use serde_json::Value;
use std::fmt::Write;

/// The numbers of `key` (an array) pooled over `runs`.
fn pooled(runs: &[&Value], key: &str) -> Vec<f64> {
    runs.iter()
        .flat_map(|v| v[key].as_array().into_iter().flatten())
        .filter_map(Value::as_f64)
        .collect()
}

fn median_of(runs: &[&Value], f: impl Fn(&Value) -> Option<f64>) -> Option<f64> {
    summarize(&runs.iter().filter_map(|v| f(v)).collect::<Vec<_>>()).map(|s| s.median)
}

fn ms(s: &Option<Summary>, f: impl Fn(&Summary) -> f64) -> String {
    s.as_ref().map_or("—".into(), |s| fmt_ms(f(s)))
}

/// The section, from the ADU records (empty when there are none).
/// `own_run`: the "measured in a run of its own" line, if any.
pub fn section(records: &[&Value], own_run: Option<String>) -> String {
    if records.is_empty() {
        return String::new();
    }
    let mut md = String::from("## 9. ADUs over one association\n\n");
    md.push_str(
        "WebTP-style ADUs (`apr_sctp::adu`, docs/adu.md) between the two namespaces on the same \
         shaped path (20 Mbit/s, 50 ms each way, the loss of the row). For the priority and \
         realtime cases one process (no httpd) holds both ends and times each ADU from its send \
         to its arrival; the page case is mod_sctp's response priority. Cells pool the samples \
         of all runs of the cell.\n\n",
    );
    if let Some(l) = own_run {
        md.push_str(&l);
    }
    let mut losses: Vec<f64> = records.iter().filter_map(|v| v["loss"].as_f64()).collect();
    losses.sort_by(f64::total_cmp);
    losses.dedup();
    let runs = |case: &str, variant: &str, loss: f64| -> Vec<&Value> {
        records
            .iter()
            .copied()
            .filter(|v| {
                v["case"] == case && v["variant"] == variant && v["loss"].as_f64() == Some(loss)
            })
            .collect()
    };

    md.push_str(
        "**Priority.** 200 bulk ADUs of 4 KB (800 KB, about a third of a second of the link) \
         are queued at once, then 20 late ADUs of 1 KB: of high priority (`high`) or normal \
         like the bulk (`normal`). The late ADUs' latency, and how many bulk ADUs arrived after \
         the last late one (median of the runs):\n\n\
         | late ADUs | loss | runs | late p50 | late p95 | late max | bulk after the last late | bulk p50 |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for &loss in &losses {
        for variant in ["high", "normal"] {
            let rs = runs("priority", variant, loss);
            if rs.is_empty() {
                continue;
            }
            let late = summarize(&pooled(&rs, "late_ms"));
            let bulk = summarize(&pooled(&rs, "bulk_ms"));
            let after = median_of(&rs, |v| v["bulk_after_late"].as_f64());
            let _ = writeln!(
                md,
                "| {variant} | {loss}% | {} | {} | {} | {} | {} | {} |",
                rs.len(),
                ms(&late, |s| s.median),
                ms(&late, |s| s.p95),
                ms(&late, |s| s.max),
                after.map_or("—".into(), |a| format!("{a:.0} of 200")),
                ms(&bulk, |s| s.median)
            );
        }
        let p95 = |variant| summarize(&pooled(&runs("priority", variant, loss), "late_ms"));
        if let (Some(h), Some(n)) = (p95("high"), p95("normal")) {
            let _ = writeln!(
                md,
                "| high / normal | {loss}% | | p95 ratio {} | | | | |",
                ratio(h.p95, n.p95).map_or("—".into(), |r| format!("{r:.2}×"))
            );
        }
    }

    md.push_str(
        "\n**Realtime.** 400 ADUs of 1 KB, one every 10 ms: reliable and ordered, reliable and \
         unordered, or ordered with a 150 ms lifetime (PR-SCTP: abandoned, not retransmitted, \
         once 150 ms old). Latency of the ADUs that arrived; arrived and abandoned (the \
         sender's SCTP_PR_ASSOC_STATUS) are medians of the runs; \"counted dropped\" is the \
         receiver's sum of `dropped_before` (median of the runs).\n\n\
         | variant | loss | runs | arrived | abandoned | counted dropped | p50 | p95 | p99 | max |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for &loss in &losses {
        for variant in ["reliable-ordered", "reliable-unordered", "lifetime-ordered"] {
            let rs = runs("realtime", variant, loss);
            if rs.is_empty() {
                continue;
            }
            let lat = summarize(&pooled(&rs, "lat_ms"));
            let med = |k: &str| {
                median_of(&rs, |v| v[k].as_f64()).map_or("—".into(), |x| format!("{x:.0}"))
            };
            let abandoned = median_of(&rs, |v| {
                Some(v["abandoned_unsent"].as_f64()? + v["abandoned_sent"].as_f64()?)
            })
            .map_or("—".into(), |x| format!("{x:.0}"));
            let _ = writeln!(
                md,
                "| {variant} | {loss}% | {} | {} of 400 | {abandoned} | {} | {} | {} | {} | {} |",
                rs.len(),
                med("delivered"),
                med("dropped_before"),
                ms(&lat, |s| s.median),
                ms(&lat, |s| s.p95),
                ms(&lat, |s| s.p99),
                ms(&lat, |s| s.max)
            );
        }
    }
    let page_variants = ["high", "normal"];
    if records.iter().any(|v| v["case"] == "page") {
        let critical = records
            .iter()
            .find_map(|v| v["critical"].as_str().filter(|_| v["case"] == "page"))
            .unwrap_or("?");
        let _ = write!(
            md,
            "\n**A critical object first.** The page of section 1 over one association (16 \
             streams, pipelined), httpd with `SCTPResponsePriority high` on `{critical}`, the \
             last object requested (`high`), or without the directive (`normal`, round robin). \
             Completion times from the start of the fetch:\n\n\
             | critical object | loss | runs | critical p50 | critical p95 | page p50 | all objects p95 |\n\
             |---|---|---|---|---|---|---|\n"
        );
        for &loss in &losses {
            for variant in page_variants {
                let rs = runs("page", variant, loss);
                if rs.is_empty() {
                    continue;
                }
                let crit: Vec<f64> = rs
                    .iter()
                    .filter_map(|v| v["critical_ms"].as_f64())
                    .collect();
                let crit = summarize(&crit);
                let page: Vec<f64> = rs.iter().filter_map(|v| v["page_ms"].as_f64()).collect();
                let all = summarize(&pooled(&rs, "objects_ms"));
                let _ = writeln!(
                    md,
                    "| {variant} | {loss}% | {} | {} | {} | {} | {} |",
                    rs.len(),
                    ms(&crit, |s| s.median),
                    ms(&crit, |s| s.p95),
                    ms(&summarize(&page), |s| s.median),
                    ms(&all, |s| s.p95)
                );
            }
        }
    }
    md.push_str(
        "\nNo target: these show what the mapping does (bench/notes.md says what the figures \
         mean).\n\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_from_records() {
        let mut recs = Vec::new();
        for rep in 0..2 {
            recs.push(
                json!({"s":"adu","case":"priority","variant":"high","loss":0.0,"rep":rep,
                "late_ms":[100.0, 110.0],"bulk_ms":[300.0],"bulk_after_late":180}),
            );
            recs.push(
                json!({"s":"adu","case":"priority","variant":"normal","loss":0.0,"rep":rep,
                "late_ms":[400.0, 440.0],"bulk_ms":[300.0],"bulk_after_late":0}),
            );
            recs.push(
                json!({"s":"adu","case":"realtime","variant":"lifetime-ordered","loss":0.0,
                "rep":rep,"lat_ms":[50.0, 52.0],"delivered":398,"abandoned_unsent":0,
                "abandoned_sent":2,"dropped_before":2}),
            );
        }
        for (variant, c) in [("high", 300.0), ("normal", 900.0)] {
            recs.push(
                json!({"s":"adu","case":"page","variant":variant,"loss":0.0,"rep":0,
                "critical":"/page/o31.bin","critical_ms":c,"page_ms":1000.0,
                "objects_ms":[100.0, c]}),
            );
        }
        let refs: Vec<&Value> = recs.iter().collect();
        let md = section(&refs, None);
        for want in [
            "## 9. ADUs over one association",
            "| high | 0% | 2 | 105 | 110 | 110 | 180 of 200 | 300 |",
            "| normal | 0% | 2 | 420 | 440 | 440 | 0 of 200 | 300 |",
            "| high / normal | 0% | | p95 ratio 0.25× | | | | |",
            "| high | 0% | 1 | 300 | 300 | 1000 | 290 |",
            "| normal | 0% | 1 | 900 | 900 | 1000 | 860 |",
            "`SCTPResponsePriority high` on `/page/o31.bin`",
            "| lifetime-ordered | 0% | 2 | 398 of 400 | 2 | 2 | 51.0 | 52.0 | 52.0 | 52.0 |",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        assert_eq!(section(&[], None), "");
    }
}
