//! report.md: the document as GitHub-flavoured Markdown, suitable as a pull-request comment.

use std::fmt::Write as _;

use super::document::{Block, Document, Inline, Table};

/// Renders `doc` as Markdown; charts link to `charts/<name>.svg`.
pub fn render(doc: &Document) -> String {
    let mut out = format!("# {}\n", doc.title);
    for s in &doc.sections {
        let _ = write!(out, "\n## {}\n", s.title);
        for b in &s.blocks {
            out.push('\n');
            block(&mut out, b);
        }
    }
    out
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Paragraph(inlines) => {
            out.push_str(&inline(inlines));
            out.push('\n');
        }
        Block::List(items) => {
            for i in items {
                let _ = writeln!(out, "- {}", inline(i));
            }
        }
        Block::Table(t) => table(out, t),
        Block::Code(code) => {
            let _ = writeln!(out, "```sh\n{code}\n```");
        }
        Block::Chart { name, title } => {
            let _ = writeln!(out, "![{title}](charts/{name}.svg)");
        }
        Block::Figure { path, title } => {
            let _ = writeln!(out, "[{}]({path})", text(title));
        }
        Block::Details { summary, blocks } => {
            let _ = writeln!(out, "<details><summary>{}</summary>", text(summary));
            for b in blocks {
                out.push('\n');
                block(out, b);
            }
            out.push_str("\n</details>\n");
        }
    }
}

fn inline(inlines: &[Inline]) -> String {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text(t) => text(t).replace('\n', " "),
            Inline::Strong(t) => format!("**{}**", text(t)),
            Inline::Code(t) => format!("`{t}`"),
            Inline::Link { text: t, href } => format!("[{}]({href})", text(t)),
        })
        .collect()
}

/// Text that must stay text: `<` would open an HTML tag on GitHub (stderr lines such as
/// `<module>` in an invalid run's reason).
fn text(t: &str) -> String {
    t.replace('<', "&lt;")
}

/// A table cell's line: also no `|` and no raw line break, which would end the row.
fn escape(line: &str) -> String {
    text(line).replace('|', "\\|").replace('\n', "<br>")
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "| {} |", t.header.join(" | "));
    let rule: Vec<&str> = (0..t.header.len())
        .map(|i| {
            if t.numeric.get(i).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &t.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| escape(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_cells_and_tags_stay_inside_the_table() {
        let t = Table {
            header: vec!["Reason".into()],
            numeric: vec![false],
            rows: vec![vec![vec![
                "target exited:\n  File \"app.py\", in <module>\n  a | b".into(),
            ]]],
        };
        let mut out = String::new();
        table(&mut out, &t);
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(
            out.contains("exited:<br>  File \"app.py\", in &lt;module><br>  a \\| b"),
            "{out}"
        );
    }
}
