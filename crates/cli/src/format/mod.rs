//! podman's output layer: `--format` Go templates, `table` layouts with
//! aligned columns and headers, and JSON in podman's layouts.
//!
//! The flow follows `containers/common`'s `report` package: a format
//! string is normalized (`table ` prefix removed, `\t` and `\n` escapes
//! turned into characters, a final newline added), wrapped in
//! `{{range .}}...{{end}}` when it is a table or a user's row template, run
//! over the rows, and aligned by the tab writer when it is a table or one
//! of the command's own layouts.

mod json;
mod table;
mod template;
mod value;

use std::collections::BTreeMap;
use std::rc::Rc;

use corral_define::{ErrorKind, HasKind};
use serde::Serialize;

pub use json::{EmptyObject, JsonStyle, to_json_line, write_json};
pub use table::TabWriter;
pub use template::{FuncBody, FuncError, Funcs, GoTemplate, Template};
pub use value::{Struct, ToValueError, Value, to_value};

/// Why output could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse (`template: ps:1: function "x" not defined`).
    #[error("{0}")]
    Parse(String),
    /// The template failed on the data (`template: ps:1:2: executing ...`).
    #[error("{0}")]
    Execute(String),
    /// The data could not be turned into template values.
    #[error("cannot format output: {0}")]
    ToValue(#[from] ToValueError),
}

impl HasKind for FormatError {
    fn kind(&self) -> ErrorKind {
        match self {
            FormatError::Parse(_) | FormatError::Execute(_) => ErrorKind::InvalidArg,
            FormatError::ToValue(_) => ErrorKind::Internal,
        }
    }
}

/// Who wrote a template, which decides how it is run (podman's `report.Origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command's own layout: aligned, run as written.
    Podman,
    /// The user's `--format`: wrapped in `{{range .}}` unless it ranges itself.
    User,
    /// Run as written, not aligned (`version --format`).
    Unknown,
}

/// Whether `format` asks for JSON: `json`, or `{{json .}}` alone.
pub fn is_json(format: &str) -> bool {
    let trimmed = format.trim();
    if trimmed == "json" {
        return true;
    }
    let Some(inner) = trimmed.strip_prefix("{{").and_then(|rest| rest.strip_suffix("}}")) else {
        return false;
    };
    let inner = inner.trim();
    match inner.strip_prefix("json") {
        Some(rest) => matches!(rest.trim(), "" | "."),
        None => false,
    }
}

/// Whether `format` is a table (`table {{.ID}}...`).
pub fn is_table(format: &str) -> bool {
    format.starts_with("table ")
}

/// podman's `NormalizeFormat`: for a table, drops the `table ` keyword and
/// turns every space into a column break; always turns the `\t` and `\n`
/// escapes into characters; ends the text with a newline.
pub fn normalize_format(format: &str) -> String {
    let replacements: &[(&str, &str)] = if is_table(format) {
        &[("table ", ""), ("\\t", "\t"), (" ", "\t"), ("\\n", "\n")]
    } else {
        &[("\\t", "\t"), ("\\n", "\n")]
    };
    let mut out = String::with_capacity(format.len() + 1);
    let mut rest = format;
    'scan: while !rest.is_empty() {
        for (from, to) in replacements {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Whether `format` already ranges over its rows (`{{range .}}...{{end}}`).
fn ranges_over_rows(format: &str) -> bool {
    let action_body = |text: &str| -> Option<(String, usize)> {
        let start = text.find("{{")?;
        let end = start + text[start..].find("}}")?;
        Some((
            text[start + 2..end].chars().filter(|c| !c.is_whitespace()).collect(),
            end + 2,
        ))
    };
    let mut rest = format;
    let mut in_range = false;
    while let Some((body, next)) = action_body(rest) {
        if !in_range && body == "range." {
            in_range = true;
        } else if in_range && (body == "end" || body == "end-") {
            return true;
        }
        rest = &rest[next..];
    }
    false
}

fn wrap_in_range(text: &str) -> String {
    format!("{{{{range .}}}}{text}{{{{end -}}}}")
}

/// podman's column header for a field name: split at case changes and
/// upper-cased (`CreatedAt` -> `CREATED AT`, `ID` -> `ID`).
pub fn field_header(name: &str) -> String {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let class = |c: char| {
        if c.is_lowercase() {
            Class::Lower
        } else if c.is_uppercase() {
            Class::Upper
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Other
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = None;
    for c in name.chars() {
        let current = class(c);
        match runs.last_mut() {
            Some(run) if last == Some(current) => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = Some(current);
    }
    // An upper-case run followed by a lower-case one gives it its last
    // letter: "HTTPServer" -> "HTTP", "Server".
    for i in 0..runs.len().saturating_sub(1) {
        let upper_then_lower =
            runs[i].first().is_some_and(|c| c.is_uppercase()) && runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper_then_lower && let Some(moved) = runs[i].pop() {
            runs[i + 1].insert(0, moved);
        }
    }
    runs.iter()
        .filter(|run| !run.is_empty())
        .map(|run| run.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// A command's column headers: field names podman spells differently
/// (`ID` is `CONTAINER ID` in `ps`, `IMAGE ID` in `images`); every other
/// field gets [`field_header`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    overrides: BTreeMap<String, String>,
}

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spells `field`'s header `header` (upper-cased, as podman does).
    pub fn with(mut self, field: &str, header: &str) -> Self {
        self.overrides.insert(field.to_owned(), header.to_uppercase());
        self
    }

    /// The header of `field`.
    pub fn header(&self, field: &str) -> String {
        self.overrides
            .get(field)
            .cloned()
            .unwrap_or_else(|| field_header(field))
    }

    /// The header row's data: every field the template reads, mapped to its header.
    fn row_for(&self, fields: &[String]) -> Value {
        let mut map: BTreeMap<String, Value> = self
            .overrides
            .iter()
            .map(|(field, header)| (field.clone(), Value::String(header.clone())))
            .collect();
        for field in fields {
            map.entry(field.clone())
                .or_insert_with(|| Value::String(self.header(field)));
        }
        Value::Map(Rc::new(map))
    }
}

/// Renders data through a parsed format, as podman's `report.Formatter`.
#[derive(Debug)]
pub struct Formatter {
    template: Box<dyn Template>,
    table: bool,
    aligned: bool,
    out: String,
}

impl Formatter {
    /// Parses `format` for the command `name` with the standard functions.
    pub fn parse(name: &str, origin: Origin, format: &str) -> Result<Self, FormatError> {
        Self::parse_with(name, origin, format, Funcs::standard())
    }

    /// Parses `format` with the given functions.
    pub fn parse_with(name: &str, origin: Origin, format: &str, funcs: Funcs) -> Result<Self, FormatError> {
        let table = is_table(format);
        let wrapped = table || (origin == Origin::User && !ranges_over_rows(format));
        let text = if wrapped {
            wrap_in_range(&normalize_format(format))
        } else {
            normalize_format(format)
        };
        Ok(Formatter {
            template: Box::new(GoTemplate::parse_with(name, &text, funcs)?),
            table,
            aligned: table || origin == Origin::Podman,
            out: String::new(),
        })
    }

    /// Whether the format began with `table`.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Whether output is aligned into columns, and a header row belongs
    /// above it (podman's `RenderHeaders`).
    pub fn renders_headers(&self) -> bool {
        self.aligned
    }

    /// Renders `data` (for a table or a user's row template: the rows).
    pub fn execute<T: Serialize + ?Sized>(&mut self, data: &T) -> Result<(), FormatError> {
        self.execute_value(&to_value(data)?)
    }

    /// Renders an already converted value.
    pub fn execute_value(&mut self, data: &Value) -> Result<(), FormatError> {
        self.template.execute(data, &mut self.out)
    }

    /// Renders the header row: the template run over one row whose fields
    /// are the headers.
    pub fn execute_headers(&mut self, headers: &Headers) -> Result<(), FormatError> {
        let row = headers.row_for(&self.template.field_names());
        self.execute_value(&Value::List(Rc::new([row])))
    }

    /// The output, aligned when it is a table or a command's own layout.
    pub fn finish(self) -> String {
        if self.aligned {
            TabWriter::PODMAN.align(&self.out)
        } else {
            self.out
        }
    }
}

/// How a listing command (`ps`, `images`, `pod ps`, ...) prints its rows.
#[derive(Debug, Clone)]
pub struct ListFormat<'a> {
    /// The command name templates report errors under (`ps`).
    pub name: &'a str,
    /// The layout without `--format`: a `table ...` template, or a
    /// `{{range . }}...{{end -}}` one (podman's `images`, `pod ps`).
    pub default_format: &'a str,
    pub headers: &'a Headers,
    /// The JSON layout for `--format json`.
    pub json_style: JsonStyle,
}

impl ListFormat<'_> {
    /// Renders `rows` for `--format` (`None` when not given) as podman's
    /// listing commands do: JSON for `json`; a header row for tables unless
    /// `no_heading`; a user's row template without headers or alignment.
    pub fn render<T: Serialize>(
        &self,
        format: Option<&str>,
        no_heading: bool,
        rows: &[T],
    ) -> Result<String, FormatError> {
        if format.is_some_and(is_json) {
            return to_json_line(rows, self.json_style);
        }
        let mut formatter = match format {
            Some(format) => Formatter::parse(self.name, Origin::User, format)?,
            None => Formatter::parse(self.name, Origin::Podman, self.default_format)?,
        };
        let heading = !no_heading && (format.is_none() || formatter.is_table());
        if heading && formatter.renders_headers() {
            formatter.execute_headers(self.headers)?;
        }
        formatter.execute(rows)?;
        Ok(formatter.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_formats_are_recognized() {
        for yes in ["json", " json ", "{{json .}}", "{{ json . }}", "{{json}}"] {
            assert!(is_json(yes), "{yes}");
        }
        for no in ["{{json .ID}}", "table json", "{{.}}", "jsonx"] {
            assert!(!is_json(no), "{no}");
        }
    }

    #[test]
    fn normalization_matches_podman() {
        assert_eq!(normalize_format("table {{.ID}}\\t{{.Names}}"), "{{.ID}}\t{{.Names}}\n");
        assert_eq!(normalize_format("table {{.ID}} {{.Names}}"), "{{.ID}}\t{{.Names}}\n");
        assert_eq!(normalize_format("{{.ID}}\\t{{.Names}} x"), "{{.ID}}\t{{.Names}} x\n");
        assert_eq!(normalize_format("{{.ID}}\n"), "{{.ID}}\n");
    }

    #[test]
    fn headers_split_camel_case() {
        assert_eq!(field_header("ID"), "ID");
        assert_eq!(field_header("CreatedAt"), "CREATED AT");
        assert_eq!(field_header("ImageID"), "IMAGE ID");
        assert_eq!(field_header("HTTPServer"), "HTTP SERVER");
        assert_eq!(field_header("Port80"), "PORT 80");
        assert_eq!(field_header("Fieldb"), "FIELDB");
        let headers = Headers::new().with("ID", "container id");
        assert_eq!(headers.header("ID"), "CONTAINER ID");
        assert_eq!(headers.header("PodName"), "POD NAME");
    }

    #[test]
    fn range_detection() {
        assert!(ranges_over_rows("{{range .}}{{.ID}}{{end}}"));
        assert!(ranges_over_rows("{{ range . }}x{{ end -}}"));
        // podman's pattern does not take a left trim marker before `end`.
        assert!(!ranges_over_rows("{{range .}}x{{- end}}"));
        assert!(!ranges_over_rows("{{range .Names}}{{.}}{{end}}"));
        assert!(!ranges_over_rows("{{.ID}}"));
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Row {
        #[serde(rename = "ID")]
        id: String,
        value: String,
    }

    fn rows() -> Vec<Row> {
        [
            ("c061a0839e", "one"),
            ("f10fc2e11057", "two"),
            ("1eb6fab5aa8f4b5cbfd3e66aa35e9b2a", "three"),
        ]
        .into_iter()
        .map(|(id, value)| Row {
            id: id.into(),
            value: value.into(),
        })
        .collect()
    }

    #[test]
    fn table_and_row_templates_as_containers_common() {
        let headers = Headers::new().with("ID", "Identity");
        let list = ListFormat {
            name: "t",
            default_format: "table {{.ID}}\t{{.Value}}",
            headers: &headers,
            json_style: JsonStyle::LIST,
        };
        assert_eq!(
            list.render(None, false, &rows()).unwrap(),
            "IDENTITY                          VALUE\n\
             c061a0839e                        one\n\
             f10fc2e11057                      two\n\
             1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n"
        );
        assert_eq!(
            list.render(Some("table {{ .ID}}"), false, &rows()).unwrap(),
            "IDENTITY\nc061a0839e\nf10fc2e11057\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n"
        );
        assert_eq!(
            list.render(None, true, &rows()).unwrap(),
            "c061a0839e                        one\n\
             f10fc2e11057                      two\n\
             1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n"
        );
        // A user's row template: no header, no alignment, tabs kept.
        assert_eq!(
            list.render(Some("{{.ID}}\\t{{.Value}}"), false, &rows()).unwrap(),
            "c061a0839e\tone\nf10fc2e11057\ttwo\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n"
        );
        assert_eq!(
            list.render(Some("{{range .}}{{.ID}}{{end -}}"), false, &rows())
                .unwrap(),
            "c061a0839ef10fc2e110571eb6fab5aa8f4b5cbfd3e66aa35e9b2a"
        );
        assert_eq!(
            list.render(Some("json"), false, &rows()[..1]).unwrap(),
            "[\n  {\n    \"ID\": \"c061a0839e\",\n    \"Value\": \"one\"\n  }\n]\n"
        );
        assert_eq!(list.render(Some("json"), false, &Vec::<Row>::new()).unwrap(), "[]\n");
    }

    #[test]
    fn execution_errors_name_the_command() {
        let headers = Headers::new();
        let list = ListFormat {
            name: "ps",
            default_format: "table {{.ID}}",
            headers: &headers,
            json_style: JsonStyle::LIST,
        };
        assert_eq!(
            list.render(Some("{{.Bogus}}"), false, &rows()).unwrap_err().to_string(),
            "template: ps:1:13: executing \"ps\" at <.Bogus>: can't evaluate field Bogus in type Row"
        );
    }
}
