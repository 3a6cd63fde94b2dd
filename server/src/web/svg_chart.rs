//! Small charts drawn on the server as inline SVG: daily or weekly counts as lines or bars, with
//! a y axis (0, half, a round maximum), x labels thinned to fit, and a legend. Pure functions
//! from data to an SVG string; every text is escaped, so names and labels cannot inject markup.

use std::fmt::Write as _;

/// One named series; `values` has one number per label.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [i64],
    /// A CSS colour, e.g. `#b91c1c`.
    pub color: &'a str,
}

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Line,
    Bar,
}

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
/// Most x labels written under the axis.
const MAX_X_LABELS: usize = 8;

/// Escapes text for SVG (XML) content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The smallest "round" number (1, 2 or 5 × 10ⁿ) at least `n`; 1 for nothing.
pub fn nice_max(n: i64) -> i64 {
    if n <= 1 {
        return 1;
    }
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= n {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A chart of `series` over `labels`, titled `title`. Empty data gives an empty frame with the
/// axes, never an error.
pub fn chart(kind: Kind, title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let n = labels.len();
    let top = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let max = nice_max(top);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = if n == 0 { plot_w } else { plot_w / n as f64 };
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y_of = |v: i64| TOP + plot_h - plot_h * (v.max(0) as f64 / max as f64);

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{t}\" class=\"chart\" data-kind=\"{k}\" \
         style=\"width:100%;height:auto;font:11px system-ui,sans-serif\">\
         <title>{t}</title>",
        t = escape(title),
        k = if kind == Kind::Line { "line" } else { "bar" },
    );
    // Axes and the y ticks.
    let _ = write!(
        svg,
        "<g stroke=\"#a8a29e\" stroke-width=\"1\">\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\"/>\
         <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/></g>",
        b = TOP + plot_h,
        r = WIDTH - RIGHT,
    );
    let ticks = if max >= 2 {
        vec![0, max / 2, max]
    } else {
        vec![0, max]
    };
    for tick in ticks {
        let y = y_of(tick);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{r}\" y2=\"{y:.1}\" stroke=\"#e7e5e4\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#57534e\" \
             class=\"y-tick\">{tick}</text>",
            r = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = y + 4.0,
        );
    }
    // X labels: every `every`-th, at most MAX_X_LABELS of them, starting with the first.
    let every = n.div_ceil(MAX_X_LABELS).max(1);
    // The last label too, unless it would crowd the regular one before it.
    let last_regular = n.saturating_sub(1) / every * every;
    let show_last = n > 0 && n - 1 - last_regular >= every.div_ceil(2);
    for (i, label) in labels.iter().enumerate() {
        if i % every != 0 && !(i + 1 == n && show_last) {
            continue;
        }
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\" fill=\"#57534e\" \
             class=\"x-label\">{l}</text>",
            x = x_mid(i),
            y = HEIGHT - BOTTOM + 14.0,
            l = escape(short_label(label)),
        );
    }
    match kind {
        Kind::Line => {
            for s in series {
                let points: Vec<String> = s
                    .values
                    .iter()
                    .take(n)
                    .enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", x_mid(i), y_of(*v)))
                    .collect();
                let _ = write!(
                    svg,
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{p}\" \
                     data-series=\"{name}\"><title>{name}</title></polyline>",
                    c = escape(s.color),
                    p = points.join(" "),
                    name = escape(s.name),
                );
            }
        }
        Kind::Bar => {
            let per = series.len().max(1) as f64;
            let bar_w = (slot * 0.8 / per).max(1.0);
            for (k, s) in series.iter().enumerate() {
                for (i, v) in s.values.iter().take(n).enumerate() {
                    if *v <= 0 {
                        continue;
                    }
                    let x = LEFT + slot * i as f64 + slot * 0.1 + bar_w * k as f64;
                    let y = y_of(*v);
                    let _ = write!(
                        svg,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" \
                         fill=\"{c}\" data-series=\"{name}\"><title>{l}: {v}</title></rect>",
                        h = TOP + plot_h - y,
                        c = escape(s.color),
                        name = escape(s.name),
                        l = escape(&labels[i]),
                    );
                }
            }
        }
    }
    // The legend along the top.
    let mut x = LEFT;
    for s in series {
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{c}\"/>\
             <text x=\"{tx:.1}\" y=\"15\" fill=\"#1c1917\" class=\"legend\">{name}</text>",
            c = escape(s.color),
            tx = x + 14.0,
            name = escape(s.name),
        );
        x += 24.0 + text_width(s.name);
    }
    svg.push_str("</svg>");
    svg
}

/// About how wide `text` is at the chart's 11 px font: a Chinese (or other wide) character is a
/// full em, others a little over half of one. Enough to keep legend entries from overlapping.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c >= '\u{2E80}' { 11.0 } else { 6.5 })
        .sum()
}

/// `2026-11-25` → `11-25`; other labels (weeks) as they are.
fn short_label(label: &str) -> &str {
    if label.len() == 10 && label.as_bytes().get(4) == Some(&b'-') {
        &label[5..]
    } else {
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn round_maxima() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(200), 200);
        assert_eq!(nice_max(201), 500);
        assert_eq!(nice_max(i64::MAX), i64::MAX);
    }

    #[test]
    fn a_line_chart_has_axes_ticks_labels_and_one_point_per_day() {
        let values = [0, 3, 7, 1];
        let svg = chart(
            Kind::Line,
            "Verified",
            &labels(4),
            &[Series {
                name: "verified",
                values: &values,
                color: "#15803d",
            }],
        );
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Verified</title>"));
        // The y axis reaches the round maximum 10, with 5 half way.
        for tick in [">0</text>", ">5</text>", ">10</text>"] {
            assert!(svg.contains(tick), "{tick} in {svg}");
        }
        assert!(svg.contains(">11-01</text>") && svg.contains(">11-04</text>"));
        let points = svg
            .split("points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("points");
        assert_eq!(points.split(' ').count(), 4);
        // The highest value is the highest point (smallest y); zero sits on the axis.
        let ys: Vec<f64> = points
            .split(' ')
            .map(|p| p.split(',').nth(1).expect("y").parse().expect("number"))
            .collect();
        assert_eq!(ys[0], TOP + (HEIGHT - TOP - BOTTOM));
        assert!(ys[2] < ys[1] && ys[1] < ys[3] && ys[3] < ys[0], "{ys:?}");
    }

    #[test]
    fn bars_skip_zeros_and_labels_are_thinned() {
        let values: Vec<i64> = (0..30).map(|i| i64::from(i % 3 == 0)).collect();
        let svg = chart(
            Kind::Bar,
            "Alerts",
            &labels(30),
            &[Series {
                name: "alerts",
                values: &values,
                color: "#b91c1c",
            }],
        );
        assert_eq!(
            svg.matches("<rect x=").count() - 1,
            10,
            "10 bars + the legend"
        );
        assert!(svg.matches("class=\"x-label\"").count() <= MAX_X_LABELS + 1);
        assert!(svg.contains(">11-01</text>"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = chart(
            Kind::Line,
            "<script>alert(1)</script>",
            &["a\"b".to_string()],
            &[Series {
                name: "x & <y>",
                values: &[1],
                color: "red\"/><script>",
            }],
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("x &amp; &lt;y&gt;"));
        assert!(svg.contains("a&quot;b"));
    }

    #[test]
    fn no_data_is_an_empty_frame() {
        let svg = chart(Kind::Bar, "Nothing", &[], &[]);
        assert!(svg.contains(">0</text>") && svg.contains(">1</text>"));
        assert!(!svg.contains("<rect"));
    }

    #[test]
    fn legend_entries_in_chinese_do_not_overlap() {
        let labels = ["2026-11-01".to_string(), "2026-11-02".to_string()];
        let names = ["已发码", "已出库", "已查验"];
        let series: Vec<Series<'_>> = names
            .iter()
            .map(|n| Series {
                name: n,
                values: &[1, 2],
                color: "#000",
            })
            .collect();
        let svg = chart(Kind::Line, "t", &labels, &series);
        let starts: Vec<f64> = svg
            .split("<rect x=\"")
            .skip(1)
            .filter(|r| r.contains("y=\"6\""))
            .filter_map(|r| r.split('"').next()?.parse().ok())
            .collect();
        assert_eq!(starts.len(), 3, "{svg}");
        for (w, name) in starts.windows(2).zip(names) {
            assert!(
                w[1] - w[0] >= 14.0 + text_width(name),
                "{name} overlaps the next entry: {starts:?}"
            );
        }
        assert!(text_width("已发码") >= 33.0 && text_width("abc") < 20.0);
    }
}
