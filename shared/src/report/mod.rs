//! Report renderers: JSON, Markdown, HTML (issue 5).
