//! The drawing of the estate: written as Graphviz DOT, laid out and rendered to SVG by
//! `layout-rs` (pure Rust, no external program), left to right so it stays narrow: the peers
//! and consumer accounts on the left, the audited VPCs and endpoint services in the middle and
//! on the right. VPCs are boxes with their CIDRs; each peering connection is a small box of its
//! own on the path from requester to accepter (so its label sits on its edge), coloured by
//! status and findings; endpoint services are boxes with an edge from each consumer account.
//! Elements with a finding new since the previous run say `NEW`. The SVG keeps its natural size
//! and is only ever scaled down to the page's width (its `viewBox`), in the page's font.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Estate, Health};
use vpcwarden_core::domain::Severity;

/// Above this many nodes the drawing keeps the elements with findings (and what they connect)
/// first: a layout of thousands of nodes is neither quick nor readable.
pub const MAX_DRAWN_NODES: usize = 240;

pub fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#7f1d1d",
        Severity::High => "#dc2626",
        Severity::Medium => "#ea580c",
        Severity::Low => "#ca8a04",
    }
}

const OK: &str = "#16a34a";
const PENDING: &str = "#2563eb";
const INACTIVE: &str = "#6b7280";

/// A DOT string literal.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn edge_style(status: &str, health: &Health) -> (String, bool, u8) {
    let dashed = status != "active";
    match health.worst {
        Some(s) => (severity_colour(s).to_string(), dashed, 2),
        None if status == "active" => (OK.to_string(), false, 1),
        None if status == "pending-acceptance" || status == "provisioning" => (PENDING.to_string(), true, 1),
        None => (INACTIVE.to_string(), true, 1),
    }
}

fn account_node(service: &str, account: &str) -> String {
    format!("consumer:{service}:{account}")
}

/// Which VPCs, peerings and services to draw, keeping the ones with findings when there are too many.
struct Selection {
    vpcs: BTreeSet<String>,
    peerings: BTreeSet<String>,
    services: BTreeSet<String>,
    total_nodes: usize,
    drawn_nodes: usize,
}

fn select(estate: &Estate) -> Selection {
    let service_nodes = |s: &super::EstateService| 1 + s.consumers.len();
    let total_nodes = estate.vpcs.len() + estate.services.iter().map(service_nodes).sum::<usize>();
    let mut sel = Selection {
        vpcs: BTreeSet::new(),
        peerings: BTreeSet::new(),
        services: BTreeSet::new(),
        total_nodes,
        drawn_nodes: 0,
    };
    if total_nodes <= MAX_DRAWN_NODES {
        sel.vpcs = estate.vpcs.iter().map(|v| v.id.clone()).collect();
        sel.peerings = estate.peerings.iter().map(|p| p.id.clone()).collect();
        sel.services = estate.services.iter().map(|s| s.id.clone()).collect();
        sel.drawn_nodes = total_nodes;
        return sel;
    }
    // Worst first: elements with findings, by severity, then the rest in order.
    let mut peerings: Vec<&super::EstatePeering> = estate.peerings.iter().collect();
    peerings.sort_by_key(|p| std::cmp::Reverse(p.health.worst));
    let mut services: Vec<&super::EstateService> = estate.services.iter().collect();
    services.sort_by_key(|s| {
        std::cmp::Reverse(s.health.worst.max(s.consumers.iter().filter_map(|c| c.health.worst).max()))
    });
    let mut budget = MAX_DRAWN_NODES;
    for s in services {
        if service_nodes(s) > budget {
            continue;
        }
        budget -= service_nodes(s);
        sel.services.insert(s.id.clone());
    }
    for p in peerings {
        let new = [&p.requester_vpc, &p.accepter_vpc].into_iter().filter(|v| !sel.vpcs.contains(*v)).count();
        if new > budget {
            continue;
        }
        budget -= new;
        sel.vpcs.insert(p.requester_vpc.clone());
        sel.vpcs.insert(p.accepter_vpc.clone());
        sel.peerings.insert(p.id.clone());
    }
    sel.drawn_nodes = MAX_DRAWN_NODES - budget;
    sel
}

/// Peering edges run from requester to accepter, and the layout ranks nodes along them: beyond
/// this many ranks (a mesh of connections between peers, rather than hubs and spokes) the layout
/// takes time that grows steeply, so each connection becomes a node of its own between its two
/// VPCs, two ranks in all.
pub const MAX_RANKS: usize = 4;

/// The longest requester → accepter path, in edges; `None` when the connections form a cycle.
fn longest_path(edges: &[(&str, &str)]) -> Option<usize> {
    let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        indegree.entry(from).or_default();
        *indegree.entry(to).or_default() += 1;
        out.entry(from).or_default().push(to);
    }
    let mut ready: Vec<&str> = indegree.iter().filter(|(_, d)| **d == 0).map(|(n, _)| *n).collect();
    let mut length: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen = 0;
    while let Some(node) = ready.pop() {
        seen += 1;
        let here = length.get(node).copied().unwrap_or(0);
        for next in out.get(node).into_iter().flatten() {
            let l = length.entry(next).or_default();
            *l = (*l).max(here + 1);
            let d = indegree.get_mut(next).expect("every node has a degree");
            *d -= 1;
            if *d == 0 {
                ready.push(next);
            }
        }
    }
    (seen == indegree.len()).then(|| length.values().copied().max().unwrap_or(0))
}

/// The layout's crossing reduction costs time that grows steeply with the graph: it runs on
/// drawings of up to this many nodes.
pub const OPTIMISE_UP_TO: usize = 30;

/// The page's font stack (the report's CSS), for the drawing's text.
pub const FONT: &str = "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";

/// The first line of the label of an element with a finding new since the previous run.
const NEW: &str = "NEW";

/// The estate as a DOT graph, and a note when only part of it is drawn.
pub fn dot(estate: &Estate) -> (String, Option<String>) {
    let (dot, note, _) = dot_and_size(estate);
    (dot, note)
}

fn dot_and_size(estate: &Estate) -> (String, Option<String>, usize) {
    let sel = select(estate);
    let drawn: Vec<&super::EstatePeering> = estate.peerings.iter().filter(|p| sel.peerings.contains(&p.id)).collect();
    let edges: Vec<(&str, &str)> = drawn.iter().map(|p| (p.requester_vpc.as_str(), p.accepter_vpc.as_str())).collect();
    let shallow = longest_path(&edges).is_some_and(|l| l <= MAX_RANKS);
    let mut out = String::from("digraph estate {\n  rankdir=LR;\n  node [shape=box, fontsize=13];\n");
    for v in estate.vpcs.iter().filter(|v| sel.vpcs.contains(&v.id)) {
        let mut label = String::new();
        if let Some(name) = &v.name {
            let _ = writeln!(label, "{name}");
        }
        let _ = write!(label, "{}\n{} {}", v.id, v.account, v.region);
        for c in &v.cidrs {
            let _ = write!(label, "\n{c}");
        }
        let fill = if v.audited { "#dbeafe" } else { "#f3f4f6" };
        let _ = writeln!(out, "  {} [label={}, style=filled, fillcolor={}];", quote(&v.id), quote(&label), quote(fill));
    }
    for p in drawn {
        let (colour, dashed, width) = edge_style(&p.status, &p.health);
        let style = if dashed { ", style=dashed" } else { "" };
        let mut label =
            if p.health.new { format!("{NEW}\n{}\n{}", p.id, p.status) } else { format!("{}\n{}", p.id, p.status) };
        if !p.health.codes.is_empty() {
            let codes: Vec<&str> = p.health.codes.iter().map(|c| c.as_str()).collect();
            let _ = write!(label, "\n{}", codes.join("\n"));
        }
        let (requester, accepter) = (quote(&p.requester_vpc), quote(&p.accepter_vpc));
        let (label, colour) = (quote(&label), quote(&colour));
        // The connection is a node on the path between its VPCs: its label is on its edge.
        let node = quote(&format!("connection:{}", p.id));
        let _ = writeln!(out, "  {node} [label={label}, color={colour}, fontsize=12, width={width}];");
        if shallow {
            let _ = writeln!(out, "  {requester} -> {node} [color={colour}, penwidth={width}{style}];");
            let _ = writeln!(out, "  {node} -> {accepter} [color={colour}, penwidth={width}{style}];");
        } else {
            for vpc in [&requester, &accepter] {
                let _ = writeln!(out, "  {vpc} -> {node} [color={colour}, penwidth={width}{style}];");
            }
        }
    }
    for s in estate.services.iter().filter(|s| sel.services.contains(&s.id)) {
        draw_service(&mut out, s);
    }
    out.push_str("}\n");
    let note = (sel.drawn_nodes < sel.total_nodes).then(|| {
        format!(
            "The drawing shows {} of {} nodes: those with findings first (the full estate is in the JSON report).",
            sel.drawn_nodes, sel.total_nodes
        )
    });
    let nodes = sel.drawn_nodes + sel.peerings.len();
    (out, note, nodes)
}

/// An endpoint service as a box, with an edge from each consumer account, coloured by its
/// worst finding.
fn draw_service(out: &mut String, s: &super::EstateService) {
    let node = format!("service:{}", s.id);
    let mut label = format!("endpoint service\n{}\n{} {}", s.id, s.account, s.region);
    if s.health.new {
        label = format!("{NEW}\n{label}");
    }
    if !s.acceptance_required {
        label.push_str("\nauto-accept");
    }
    let border = s.health.worst.map_or("black", severity_colour);
    let _ = writeln!(
        out,
        "  {} [label={}, style=filled, fillcolor=\"#fef3c7\", color={}];",
        quote(&node),
        quote(&label),
        quote(border)
    );
    for c in &s.consumers {
        let states: Vec<String> = c.connections.iter().map(|(state, n)| format!("{n} {state}")).collect();
        let mut label = format!("account {}\n{}", c.account, states.join("\n"));
        if c.health.new {
            label = format!("{NEW}\n{label}");
        }
        let connected = c.connections.keys().any(|k| k == "available" || k == "pending" || k == "partial");
        let (colour, dashed, width) = match c.health.worst {
            Some(sev) => (severity_colour(sev), !connected, 2),
            None if connected => (OK, false, 1),
            None => (INACTIVE, true, 1),
        };
        let id = account_node(&s.id, &c.account);
        let _ = writeln!(out, "  {} [label={}, color={}];", quote(&id), quote(&label), quote(colour));
        let _ = writeln!(
            out,
            "  {} -> {} [color={}, penwidth={width}{}];",
            quote(&id),
            quote(&node),
            quote(colour),
            if dashed { ", style=dashed" } else { "" }
        );
    }
}

/// The estate drawn as an SVG document (without an XML declaration, ready to inline), and a
/// note when only part of it is drawn. An error says why nothing could be drawn.
pub fn svg(estate: &Estate) -> Result<(String, Option<String>), String> {
    let (dot, note, nodes) = dot_and_size(estate);
    if estate.vpcs.is_empty() && estate.services.is_empty() {
        return Err("nothing to draw: no VPC and no endpoint service was read".into());
    }
    // The layout library asserts on graphs it cannot handle: a drawing is not worth a failed report.
    let rendered = std::panic::catch_unwind(|| {
        let mut parser = layout::gv::DotParser::new(&dot);
        let graph = parser.process().map_err(|e| format!("the DOT graph does not parse: {e}"))?;
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut writer = layout::backends::svg::SVGWriter::new();
        visual.do_it(false, nodes > OPTIMISE_UP_TO, false, &mut writer);
        Ok::<String, String>(writer.finalize())
    })
    .map_err(|_| "the layout library failed on this graph".to_string())??;
    let svg = match rendered.find("<svg") {
        Some(start) => rendered[start..].to_string(),
        None => return Err("the layout library produced no SVG".into()),
    };
    // The page's font, not the library's serif; the natural size, scaled down only to fit.
    let svg = fit(&svg).replace("font-family: Times, serif;", &format!("font-family: {FONT};")).replacen(
        "<svg ",
        "<svg style=\"max-width: 100%; height: auto\" role=\"img\" aria-label=\"the estate\" ",
        1,
    );
    Ok((svg, note))
}

/// The number in `attr="…"` of an SVG element's text.
fn number(element: &str, attr: &str) -> Option<f64> {
    let at = element.find(&format!(" {attr}=\""))? + attr.len() + 3;
    element[at..].split('"').next()?.parse().ok()
}

/// The drawing cropped to its boxes: the layout library's canvas can reach far below the last
/// one (empty space a reader scrolls through for nothing).
fn fit(svg: &str) -> String {
    let (mut right, mut bottom) = (0f64, 0f64);
    for element in svg.split("<rect").skip(1) {
        let (Some(x), Some(y), Some(w), Some(h)) =
            (number(element, "x"), number(element, "y"), number(element, "width"), number(element, "height"))
        else {
            continue;
        };
        (right, bottom) = (right.max(x + w), bottom.max(y + h));
    }
    let header_end = svg.find('>').unwrap_or(0);
    let header = &svg[..header_end];
    let (Some(width), Some(height)) = (number(header, "width"), number(header, "height")) else {
        return svg.to_string();
    };
    let (w, h) = ((right + 30.0).min(width).ceil(), (bottom + 30.0).min(height).ceil());
    if right == 0.0 || (w == width && h == height) {
        return svg.to_string();
    }
    let old = format!("width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"");
    let new = format!("width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"");
    let fitted = header.replacen(&old, &new, 1);
    if fitted == header {
        return svg.to_string();
    }
    format!("{fitted}{}", &svg[header_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canvas_is_cropped_to_the_boxes() {
        let svg = "<svg width=\"500\" height=\"900.5\" viewBox=\"0 0 500 900.5\" x>\n<rect x=\"10\" y=\"20\" \
                   width=\"100\" height=\"50\" /><rect x=\"200\" y=\"300\" width=\"100\" height=\"40\" /></svg>";
        let fitted = fit(svg);
        assert!(fitted.starts_with("<svg width=\"330\" height=\"370\" viewBox=\"0 0 330 370\" x>"), "{fitted}");
        assert!(fitted.ends_with("</svg>") && fitted.contains("<rect x=\"200\""));
        assert_eq!(fit("<svg>no header numbers</svg>"), "<svg>no header numbers</svg>");
    }

    #[test]
    fn longest_paths_are_measured_and_cycles_detected() {
        assert_eq!(longest_path(&[]), Some(0));
        assert_eq!(longest_path(&[("a", "hub"), ("b", "hub"), ("c", "hub")]), Some(1));
        assert_eq!(longest_path(&[("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]), Some(3));
        assert_eq!(longest_path(&[("a", "b"), ("b", "c"), ("c", "a")]), None);
    }

    #[test]
    fn dot_strings_are_quoted() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
