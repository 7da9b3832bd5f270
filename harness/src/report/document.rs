//! The report's content as a small document tree. Markdown and HTML render the same tree, so the
//! two never disagree; only the syntax differs.

/// A whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Title.
    pub title: String,
    /// Sections in order.
    pub sections: Vec<Section>,
}

/// A titled section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// A block of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A bulleted list, one paragraph per item.
    List(Vec<Vec<Inline>>),
    /// A table.
    Table(Table),
    /// A preformatted block (a shell command).
    Code(String),
    /// A chart, by file stem (`charts/<name>.svg`) and title.
    Chart {
        /// File stem.
        name: String,
        /// Title (alt text).
        title: String,
    },
    /// An SVG file of the report (a flame graph): linked from Markdown, shown in HTML.
    Figure {
        /// Path relative to the report.
        path: String,
        /// Title (alt text).
        title: String,
    },
    /// Content shown on request (`<details>`).
    Details {
        /// The always-visible line.
        summary: String,
        /// The hidden content.
        blocks: Vec<Block>,
    },
}

/// Inline text.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Emphasised text.
    Strong(String),
    /// Code (a name or a value).
    Code(String),
    /// A link to a file of the report.
    Link {
        /// The words.
        text: String,
        /// Path relative to the report.
        href: String,
    },
}

/// A table; each cell is one or more lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Right-align numeric columns.
    pub numeric: Vec<bool>,
    /// Rows of cells of lines.
    pub rows: Vec<Vec<Vec<String>>>,
}

/// Shorthand for plain text.
pub fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

/// Shorthand for a paragraph of plain text.
pub fn para(s: impl Into<String>) -> Block {
    Block::Paragraph(vec![text(s)])
}

/// A one-line cell.
pub fn cell(s: impl Into<String>) -> Vec<String> {
    vec![s.into()]
}

/// A table block of `columns` (heading, right-aligned as a number) over `rows`.
pub fn table(columns: &[(&str, bool)], rows: Vec<Vec<Vec<String>>>) -> Block {
    Block::Table(Table {
        header: columns.iter().map(|(h, _)| (*h).to_string()).collect(),
        numeric: columns.iter().map(|(_, n)| *n).collect(),
        rows,
    })
}
