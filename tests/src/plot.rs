//! Line charts as self-contained SVG for BENCHMARKS.md, drawn with `plotters`: panels side by
//! side, a logarithmic x axis (estate sizes grow by factors), linear y from zero, one legend.
use plotters::coord::Shift;
use plotters::prelude::*;

pub struct Series {
    pub name: String,
    /// `#rrggbb`.
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

const PANEL: (u32, u32) = (460, 344);

/// The panels as one SVG document; `x_label` names the shared x axis.
pub fn svg(panels: &[Panel], x_label: &str) -> String {
    let mut out = String::new();
    {
        let size = (PANEL.0 * panels.len().max(1) as u32, PANEL.1);
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).expect("an SVG string accepts any drawing");
        for (panel, area) in panels.iter().zip(root.split_evenly((1, panels.len().max(1)))) {
            draw(panel, &area, x_label).expect("an SVG string accepts any drawing");
        }
        root.present().expect("an SVG string accepts any drawing");
    }
    out
}

fn draw(panel: &Panel, area: &DrawingArea<SVGBackend, Shift>, x_label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let all = || panel.series.iter().flat_map(|s| s.points.iter());
    let (xmin, xmax) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| (lo.min(*x), hi.max(*x)));
    let (xmin, xmax) = (xmin.max(1.0), xmax.max(xmin.max(1.0) * 1.5));
    let ymax = all().fold(0.0f64, |m, (_, y)| m.max(*y)).max(1e-9) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((xmin * 0.9..xmax * 1.1).log_scale(), 0f64..ymax)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&|x| short(*x))
        .y_label_formatter(&|y| short(*y))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    for series in &panel.series {
        let color = rgb(series.color);
        let style = ShapeStyle::from(color).stroke_width(2);
        let points = series.points.iter().copied();
        let legend = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 18, y)], style);
        if series.dashed {
            chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?.label(&series.name).legend(legend);
        } else {
            chart.draw_series(LineSeries::new(points, style))?.label(&series.name).legend(legend);
        }
        chart.draw_series(series.points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
    }
    chart.configure_series_labels().position(SeriesLabelPosition::UpperLeft).border_style(BLACK).draw()?;
    Ok(())
}

fn rgb(hex: &str) -> RGBColor {
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    RGBColor(channel(1), channel(3), channel(5))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_document_with_every_series() {
        let series = |name: &str, dashed| Series {
            name: name.into(),
            color: "#1f77b4",
            dashed,
            points: vec![(100.0, 1.0), (1000.0, 4.5), (3000.0, 9.0)],
        };
        let panel = Panel {
            title: "Wall <time>".into(),
            y_label: "s".into(),
            series: vec![series("ours", false), series("floor", true)],
        };
        let svg = svg(&[panel], "peerings");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains("ours") && svg.contains("floor") && svg.contains("Wall &lt;time&gt;"), "{svg}");
        assert!(
            svg.contains("stroke-dasharray") || svg.matches("<polyline").count() > 2,
            "the dashed series is dashed"
        );
    }
}
