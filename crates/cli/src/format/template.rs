//! Go `text/template` syntax for `--format`, behind a small trait so the
//! engine can be swapped.
//!
//! The engine here is the project's own: it keeps struct field order (for
//! `{{json .}}`) and tells a struct from a map (a missing struct field is
//! podman's `can't evaluate field X in type T` error, a missing map key
//! prints `<no value>`), which a map-only engine cannot. It covers what
//! `--format` strings use: fields, variables, pipelines, parentheses,
//! `if`/`else if`/`range`/`with`/`break`/`continue`, comments, trim
//! markers, Go's built-in functions and podman's. `define`, `template`,
//! `block` and `call` are not supported.

mod exec;
mod funcs;
mod lex;
mod parse;

pub use funcs::{FuncBody, FuncError, Funcs};

use super::FormatError;
use super::value::Value;
use exec::{Exec, location};
use parse::{Branch, Node, Operand, Pipeline};

/// A compiled output template.
pub trait Template: std::fmt::Debug {
    /// Renders `data`, appending to `out`.
    fn execute(&self, data: &Value, out: &mut String) -> Result<(), FormatError>;

    /// The names of the fields the template reads from its data
    /// (`.ID`, `.State.Status` -> `ID`, `State`), which table headers need.
    fn field_names(&self) -> Vec<String>;
}

/// A template in Go's syntax.
#[derive(Debug, Clone)]
pub struct GoTemplate {
    name: String,
    src: String,
    nodes: Vec<Node>,
    funcs: Funcs,
}

impl GoTemplate {
    /// Parses `src` with Go's and podman's functions; `name` appears in
    /// error messages (`template: ps:1:2: ...`).
    pub fn parse(name: &str, src: &str) -> Result<Self, FormatError> {
        Self::parse_with(name, src, Funcs::standard())
    }

    /// Parses `src` with the given functions.
    pub fn parse_with(name: &str, src: &str, funcs: Funcs) -> Result<Self, FormatError> {
        let parse_error = |message: String, pos: usize| {
            let (line, _) = location(src, pos);
            FormatError::Parse(format!("template: {name}:{line}: {message}"))
        };
        let tokens = lex::lex(src).map_err(|e| parse_error(e.message, e.pos))?;
        let nodes = parse::parse(&tokens, &|word| funcs.contains(word)).map_err(|e| parse_error(e.message, e.pos))?;
        Ok(GoTemplate {
            name: name.to_owned(),
            src: src.to_owned(),
            nodes,
            funcs,
        })
    }

    /// Renders `data` to a new string.
    pub fn render(&self, data: &Value) -> Result<String, FormatError> {
        let mut out = String::new();
        self.execute(data, &mut out)?;
        Ok(out)
    }
}

impl Template for GoTemplate {
    fn execute(&self, data: &Value, out: &mut String) -> Result<(), FormatError> {
        let mut exec = Exec {
            name: &self.name,
            src: &self.src,
            funcs: &self.funcs,
            out,
            vars: Vec::new(),
        };
        exec.run(data, &self.nodes).map_err(FormatError::Execute)
    }

    fn field_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_nodes(&self.nodes, &mut names);
        names
    }
}

fn collect_nodes(nodes: &[Node], names: &mut Vec<String>) {
    for node in nodes {
        match node {
            Node::Text(_) | Node::Break | Node::Continue => {}
            Node::Action(pipe) => collect_pipe(pipe, names),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => collect_branch(branch, names),
        }
    }
}

fn collect_branch(branch: &Branch, names: &mut Vec<String>) {
    collect_pipe(&branch.pipe, names);
    collect_nodes(&branch.list, names);
    if let Some(else_list) = &branch.else_list {
        collect_nodes(else_list, names);
    }
}

fn collect_pipe(pipe: &Pipeline, names: &mut Vec<String>) {
    for operand in pipe.cmds.iter().flat_map(|cmd| &cmd.args) {
        collect_operand(operand, names);
    }
}

fn collect_operand(operand: &Operand, names: &mut Vec<String>) {
    match operand {
        Operand::Field { names: fields, .. } => {
            if let Some(first) = fields.first().filter(|first| !names.contains(first)) {
                names.push(first.clone());
            }
        }
        Operand::Chain { inner, .. } => collect_operand(inner, names),
        Operand::Pipeline(pipe) => collect_pipe(pipe, names),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::value::to_value;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct State {
        status: String,
        pid: i64,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Container {
        #[serde(rename = "ID")]
        id: String,
        names: Vec<String>,
        labels: BTreeMap<String, String>,
        state: State,
        size: Option<u64>,
        cpu: f64,
    }

    fn container() -> Value {
        to_value(&Container {
            id: "6c74672d5fc9".into(),
            names: vec!["web".into(), "alias".into()],
            labels: BTreeMap::from([("l".to_owned(), "x".to_owned()), ("a".to_owned(), "<b>".to_owned())]),
            state: State {
                status: "running".into(),
                pid: 28382,
            },
            size: None,
            cpu: 1.5,
        })
        .unwrap()
    }

    fn render(src: &str) -> String {
        GoTemplate::parse("t", src).unwrap().render(&container()).unwrap()
    }

    fn error(src: &str) -> String {
        match GoTemplate::parse("t", src) {
            Err(e) => e.to_string(),
            Ok(t) => t.render(&container()).unwrap_err().to_string(),
        }
    }

    #[test]
    fn fields_nested_and_printed_as_go() {
        assert_eq!(
            render("{{.ID}} {{.State.Status}} {{.State.Pid}}"),
            "6c74672d5fc9 running 28382"
        );
        assert_eq!(
            render("{{.Names}}|{{.Labels}}|{{.Size}}|{{.Cpu}}"),
            "[web alias]|map[a:<b> l:x]|<nil>|1.5"
        );
        assert_eq!(render("{{.State}}"), "{running 28382}");
        assert_eq!(render("{{.Labels.l}}|{{.Labels.missing}}"), "x|<no value>");
    }

    #[test]
    fn json_keeps_struct_order_and_sorts_maps() {
        assert_eq!(render("{{json .State}}"), r#"{"Status":"running","Pid":28382}"#);
        assert_eq!(render("{{json .Labels}}"), r#"{"a":"<b>","l":"x"}"#);
        assert_eq!(render("{{json .Names}}"), r#"["web","alias"]"#);
        assert_eq!(render("{{json .Size}}"), "null");
    }

    #[test]
    fn control_structures_and_variables() {
        assert_eq!(render("{{range .Names}}<{{.}}>{{end}}"), "<web><alias>");
        assert_eq!(
            render("{{range $i, $n := .Names}}{{$i}}={{$n}};{{end}}"),
            "0=web;1=alias;"
        );
        assert_eq!(render("{{range $k, $v := .Labels}}{{$k}}:{{$v}} {{end}}"), "a:<b> l:x ");
        assert_eq!(
            render("{{range .Names}}{{if eq . \"alias\"}}{{break}}{{end}}{{.}}{{end}}"),
            "web"
        );
        assert_eq!(
            render("{{range .Names}}{{if eq . \"web\"}}{{continue}}{{end}}{{.}}{{end}}"),
            "alias"
        );
        assert_eq!(render("{{range .Size}}x{{else}}empty{{end}}"), "empty");
        assert_eq!(
            render("{{with .State}}{{.Status}}{{end}}{{with .Size}}x{{else}}none{{end}}"),
            "runningnone"
        );
        assert_eq!(render("{{if .Size}}a{{else if .Cpu}}b{{else}}c{{end}}"), "b");
        assert_eq!(
            render("{{$x := .ID}}{{with .State}}{{$x}}/{{$.ID}}{{end}}"),
            "6c74672d5fc9/6c74672d5fc9"
        );
        assert_eq!(render("{{$x := 1}}{{$x = 2}}{{$x}}"), "2");
        assert_eq!(render("a  {{- /* c */ -}}  b"), "ab");
        assert_eq!(
            render("{{if and .ID (not .Size)}}yes{{end}}{{or .Size \"dflt\"}}"),
            "yesdflt"
        );
    }

    #[test]
    fn nested_ranges_share_the_data() {
        assert_eq!(
            render("{{range .Names}}{{range $.Names}}{{.}}{{end}}|{{end}}"),
            "webalias|webalias|"
        );
        assert_eq!(
            render("{{range $k, $v := .Labels}}{{if eq $k \"l\"}}{{break}}{{end}}{{$k}}={{$v}}{{end}}"),
            "a=<b>"
        );
        assert_eq!(
            render("{{range .Names}}{{range $.Size}}x{{else}}{{continue}}{{end}}{{.}}{{end}}end"),
            "end"
        );
        assert_eq!(render("{{$n := .Names}}{{range $n}}{{len $n}}{{end}}"), "22");
    }

    #[test]
    fn functions_and_pipelines() {
        assert_eq!(render(r#"{{index .Labels "l"}}{{index .Names 1}}"#), "xalias");
        assert_eq!(render(r#"{{printf "%-8s|" .ID}}"#), "6c74672d5fc9|");
        assert_eq!(
            render(r#"{{printf "%s-%d" .State.Status .State.Pid}}"#),
            "running-28382"
        );
        assert_eq!(render(r#"{{truncate (.ID | upper) 3}}"#), "6C7");
        assert_eq!(render(r#"{{join .Names ","}}"#), "web,alias");
        assert_eq!(render(r#"{{(split .State.Status "n") | len}}"#), "4");
        assert_eq!(
            render(r#"{{title .State.Status}} {{lower "AB"}} {{pad "x" 1 1}}|"#),
            "Running ab  x |"
        );
        assert_eq!(render("{{len .Names}} {{slice .ID 0 4}}"), "2 6c74");
        assert_eq!(render("{{(index .Names 0) | printf \"%q\"}}"), "\"web\"");
        assert_eq!(render("{{print 1 2}} {{println \"x\"}}"), "1 2 x\n");
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            error("{{.Bogus}}"),
            "template: t:1:2: executing \"t\" at <.Bogus>: can't evaluate field Bogus in type Container"
        );
        assert_eq!(
            error("x\n  {{.State.Nope}}"),
            "template: t:2:4: executing \"t\" at <.State.Nope>: can't evaluate field Nope in type State"
        );
        assert_eq!(
            error("{{.Size.X}}"),
            "template: t:1:2: executing \"t\" at <.Size.X>: nil pointer evaluating interface {}.X"
        );
        assert_eq!(
            error("{{index .Names 5}}"),
            "template: t:1:2: executing \"t\" at <index .Names 5>: error calling index: index out of range: 5"
        );
        assert_eq!(error("{{bogus}}"), "template: t:1: function \"bogus\" not defined");
        assert_eq!(error("a\n{{if .ID}}"), "template: t:2: unexpected EOF");
        assert_eq!(
            error("{{join .Names}}"),
            "template: t:1:2: executing \"t\" at <join>: wrong number of args for join: want 2 got 1"
        );
        assert_eq!(
            error("{{upper .State.Pid}}"),
            "template: t:1:2: executing \"t\" at <upper>: wrong type for value; expected string; got int64"
        );
        assert_eq!(
            error("{{range .State}}{{end}}"),
            "template: t:1:8: executing \"t\" at <.State>: range can't iterate over {running 28382}"
        );
        assert_eq!(
            error("{{.ID 1}}"),
            "template: t:1:2: executing \"t\" at <.ID>: ID has arguments but cannot be invoked as function"
        );
        assert_eq!(
            error("{{.ID | json | upper | pad 1}}"),
            "template: t:1:23: executing \"t\" at <pad>: wrong number of args for pad: want 3 got 2"
        );
    }

    #[test]
    fn long_contexts_are_cut_at_twenty_characters() {
        let message = error("{{index .Names 123456789012345}}");
        assert!(message.contains("at <index .Names 1234567...>:"), "{message}");
    }

    #[test]
    fn field_names_lists_top_level_fields_once() {
        let t = GoTemplate::parse(
            "t",
            "{{.ID}}\t{{.State.Status}}{{if .ID}}{{printf \"%s\" .Names}}{{end}}",
        )
        .unwrap();
        assert_eq!(t.field_names(), ["ID", "State", "Names"]);
    }
}
