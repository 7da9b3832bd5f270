//! report.html: the document as one self-contained page, the charts inline as SVG and the
//! differential flame graphs as pictures (each linked to its interactive file).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::document::{Block, Document, Inline, Table};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1280px;\
margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;\
padding-bottom:.3rem}div.t{overflow-x:auto;margin:.8rem 0}table{border-collapse:collapse;font-size:.85rem}\
th,td{border:1px solid #d0d7de;padding:.35rem .6rem;vertical-align:top}th{background:#f6f8fa}\
td.n{text-align:right;white-space:nowrap}code,pre{background:#f6f8fa;border-radius:4px}\
code{padding:.1rem .3rem}pre{padding:.8rem;overflow-x:auto}figure{margin:1.2rem 0}\
figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem;color:#57606a}\
details{margin:.8rem 0}summary{cursor:pointer}";

/// Renders `doc`; `charts` maps chart names (and figures' paths) to their SVG text.
pub fn render(doc: &Document, charts: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta \
         name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&doc.title),
        escape(&doc.title)
    );
    for s in &doc.sections {
        let _ = writeln!(out, "<h2>{}</h2>", inline_code(&s.title));
        for b in &s.blocks {
            block(&mut out, b, charts);
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes a heading, turning `code` spans into <code>.
fn inline_code(s: &str) -> String {
    escape(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

fn block(out: &mut String, b: &Block, charts: &BTreeMap<String, String>) {
    match b {
        Block::Paragraph(inlines) => {
            let _ = writeln!(out, "<p>{}</p>", inline(inlines));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(out, "<li>{}</li>", inline(i));
            }
            out.push_str("</ul>\n");
        }
        Block::Table(t) => table(out, t),
        Block::Code(code) => {
            let _ = writeln!(out, "<pre><code>{}</code></pre>", escape(code));
        }
        Block::Chart { name, title } => {
            if let Some(svg) = charts.get(name) {
                let _ = writeln!(
                    out,
                    "<figure id=\"chart-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    escape(name),
                    strip_xml_declaration(svg),
                    escape(title)
                );
            }
        }
        Block::Figure { path, title } => {
            // A static picture keeps the page self-contained; the file beside it is the
            // interactive graph (zoom, search).
            if let Some(svg) = charts.get(path) {
                use base64::Engine as _;
                let data = base64::engine::general_purpose::STANDARD.encode(svg);
                let _ = writeln!(
                    out,
                    "<figure>\n<img style=\"max-width:100%\" alt=\"{t}\" \
                     src=\"data:image/svg+xml;base64,{data}\">\n<figcaption>{t} \
                     (<a href=\"{p}\">interactive: click to zoom, Ctrl-F to search</a>)\
                     </figcaption>\n</figure>",
                    t = escape(title),
                    p = escape(path),
                );
            }
        }
        Block::Details { summary, blocks } => {
            let _ = writeln!(out, "<details>\n<summary>{}</summary>", escape(summary));
            for b in blocks {
                block(out, b, charts);
            }
            out.push_str("</details>\n");
        }
    }
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    }
}

fn inline(inlines: &[Inline]) -> String {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text(t) => escape(t),
            Inline::Strong(t) => format!("<strong>{}</strong>", escape(t)),
            Inline::Code(t) => format!("<code>{}</code>", escape(t)),
            Inline::Link { text, href } => {
                format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
            }
        })
        .collect()
}

fn table(out: &mut String, t: &Table) {
    // A wide table scrolls inside its own box instead of widening the page.
    out.push_str("<div class=\"t\"><table>\n<thead><tr>");
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, lines) in row.iter().enumerate() {
            let class = if t.numeric.get(i).copied().unwrap_or(false) {
                " class=\"n\""
            } else {
                ""
            };
            let body: Vec<String> = lines.iter().map(|l| escape(l)).collect();
            let _ = write!(out, "<td{class}>{}</td>", body.join("<br>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}
