//! Line charts as self-contained SVG, for BENCHMARKS.md (no plotting dependency): panels side by
//! side, a logarithmic x axis (estate sizes grow by factors), linear y from zero.
use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

const W: f64 = 460.0;
const H: f64 = 320.0;
/// Margins: left, right, top, bottom.
const L: f64 = 64.0;
const R: f64 = 16.0;
const T: f64 = 36.0;
const B: f64 = 48.0;

/// The panels as one SVG document; `x_label` names the shared x axis.
pub fn svg(panels: &[Panel], x_label: &str) -> String {
    let mut s = String::new();
    let width = W * panels.len() as f64;
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{}" font-family="sans-serif" font-size="12">"#,
        H + 24.0
    );
    let _ = write!(s, r#"<rect width="{width}" height="{}" fill="white"/>"#, H + 24.0);
    for (i, panel) in panels.iter().enumerate() {
        panel_svg(&mut s, panel, i as f64 * W, x_label);
    }
    // One legend for all panels (they share their series).
    if let Some(first) = panels.first() {
        for (k, series) in first.series.iter().enumerate() {
            let x = L + k as f64 * 210.0;
            let dash = if series.dashed { r#" stroke-dasharray="5,4""# } else { "" };
            let _ = write!(
                s,
                r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
                x + 24.0,
                series.color,
                x + 30.0,
                H + 14.0,
                escape(&series.name),
                y = H + 10.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn panel_svg(s: &mut String, panel: &Panel, x0: f64, x_label: &str) {
    let all = || panel.series.iter().flat_map(|p| p.points.iter());
    let (xmin, xmax) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| (lo.min(*x), hi.max(*x)));
    let ymax = nice(all().fold(0.0f64, |m, (_, y)| m.max(*y)));
    let (lx0, lx1) = (xmin.max(1.0).ln(), xmax.max(xmin + 1.0).ln());
    let px = |x: f64| x0 + L + (x.max(1.0).ln() - lx0) / (lx1 - lx0).max(1e-9) * (W - L - R);
    let py = |y: f64| T + (1.0 - y / ymax) * (H - T - B);
    let _ = write!(s, r#"<text x="{}" y="20" font-weight="bold">{}</text>"#, x0 + L, escape(&panel.title));
    let _ = write!(
        s,
        r#"<line x1="{a}" y1="{b}" x2="{c}" y2="{b}" stroke="black"/><line x1="{a}" y1="{t}" x2="{a}" y2="{b}" stroke="black"/>"#,
        a = x0 + L,
        b = H - B,
        c = x0 + W - R,
        t = T
    );
    for k in 0..=4 {
        let y = ymax * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{a}" y1="{py}" x2="{c}" y2="{py}" stroke="#ddd"/><text x="{t}" y="{}" text-anchor="end">{}</text>"##,
            py(y) + 4.0,
            short(y),
            a = x0 + L,
            c = x0 + W - R,
            t = x0 + L - 6.0,
            py = py(y)
        );
    }
    let mut xs: Vec<f64> = all().map(|(x, _)| *x).collect();
    xs.sort_by(|a, b| a.total_cmp(b));
    xs.dedup();
    for x in xs {
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, px(x), H - B + 16.0, short(x));
    }
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, x0 + W / 2.0, H - 10.0, escape(x_label));
    let _ = write!(
        s,
        r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        x0 + 16.0,
        (T + H - B) / 2.0,
        escape(&panel.y_label)
    );
    for series in &panel.series {
        let points: Vec<String> = series.points.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        let dash = if series.dashed { r#" stroke-dasharray="5,4""# } else { "" };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            series.color,
            points.join(" ")
        );
        for (x, y) in &series.points {
            let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, px(*x), py(*y), series.color);
        }
    }
}

/// A round upper bound for an axis.
fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * step).find(|v| *v >= max).unwrap_or(10.0 * step)
}

fn short(v: f64) -> String {
    if v >= 1000.0 && v % 1000.0 == 0.0 {
        format!("{}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
