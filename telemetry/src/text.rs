//! Gauge families written straight in the Prometheus text format.
//!
//! For series computed afresh at every scrape, one per (world, SLO,
//! window): a registry would keep each of them between scrapes (at ten
//! thousand worlds, 480,000 keys, and those of forgotten worlds forever)
//! and cost a lookup per value on top of its own render. Written here,
//! a scrape costs only the formatting, and a world that is gone is gone.

use std::fmt::Write;

/// Gauge families being written; each family's samples stay together
/// whatever order they are added in, as the text format requires.
#[derive(Default)]
pub struct Gauges {
    families: Vec<(&'static str, String)>,
}

impl Gauges {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample of gauge `name`.
    pub fn set(&mut self, name: &'static str, labels: &[(&str, &str)], value: f64) {
        let i = match self.families.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                self.families.push((name, String::new()));
                self.families.len() - 1
            }
        };
        let out = &mut self.families[i].1;
        out.push_str(name);
        if !labels.is_empty() {
            out.push('{');
            for (j, (k, v)) in labels.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(k);
                out.push_str("=\"");
                escape(out, v);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        number(out, value);
        out.push('\n');
    }

    /// Appends every family, with its type line, to `out`.
    pub fn write_to(self, out: &mut String) {
        for (name, samples) in self.families {
            let _ = writeln!(out, "# TYPE {name} gauge");
            out.push_str(&samples);
        }
    }
}

/// A label value as the text format quotes it.
fn escape(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A value as the text format spells it (`+Inf`, `-Inf`, `NaN`).
fn number(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_stay_together_and_values_are_spelled_as_prometheus_reads_them() {
        let mut g = Gauges::new();
        g.set("a", &[("world", "eu-1")], 0.5);
        g.set("b", &[], f64::INFINITY);
        g.set("a", &[("world", "x\"y\\z\n")], f64::NAN);
        g.set("b", &[("slo", "s"), ("window", "5m")], -0.0);
        let mut out = String::new();
        g.write_to(&mut out);
        assert_eq!(
            out,
            "# TYPE a gauge\na{world=\"eu-1\"} 0.5\na{world=\"x\\\"y\\\\z\\n\"} NaN\n\
             # TYPE b gauge\nb +Inf\nb{slo=\"s\",window=\"5m\"} -0\n"
        );
    }
}
