//! Runs a parsed template over a [`Value`], with Go's semantics: a missing
//! map key is "no value" (printed `<no value>`), a missing struct field is
//! an error, `range` iterates lists and sorted maps, variables are scoped
//! to their block.

use std::fmt::Display;

use super::funcs::{Func, FuncError, Funcs};
use super::parse::{Branch, Command, Node, Number, Operand, Pipeline};
use crate::format::value::Value;

/// A value, or Go's invalid "no value" (a missing map key). Cloning one is
/// cheap: lists, maps and structs are shared.
type Eval = Option<Value>;

/// How a list of nodes ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// Go prints at most this many characters of the failing node.
const CONTEXT_LIMIT: usize = 20;

pub(super) struct Exec<'a> {
    pub name: &'a str,
    pub src: &'a str,
    pub funcs: &'a Funcs,
    pub out: &'a mut String,
    pub vars: Vec<(String, Value)>,
}

/// Line (1-based) and column (0-based byte offset in the line) of `pos`,
/// as Go's `ErrorContext` counts them.
pub(super) fn location(src: &str, pos: usize) -> (usize, usize) {
    let before = &src[..pos.min(src.len())];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(newline) => pos - newline - 1,
        None => pos,
    };
    (line, col)
}

impl Exec<'_> {
    pub fn run(&mut self, data: &Value, nodes: &[Node]) -> Result<(), String> {
        self.vars = vec![("$".to_owned(), data.clone())];
        self.walk(data, nodes).map(|_| ())
    }

    fn error<T>(&self, pos: usize, context: &dyn Display, message: impl Display) -> Result<T, String> {
        let (line, col) = location(self.src, pos);
        let mut context = context.to_string();
        if context.chars().count() > CONTEXT_LIMIT {
            context = format!("{}...", context.chars().take(CONTEXT_LIMIT).collect::<String>());
        }
        Err(format!(
            "template: {name}:{line}:{col}: executing \"{name}\" at <{context}>: {message}",
            name = self.name
        ))
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> Result<Flow, String> {
        for node in nodes {
            let flow = match node {
                Node::Text(text) => {
                    self.out.push_str(text);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let value = self.pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        print_value(self.out, &value);
                    }
                    Flow::Normal
                }
                Node::If(branch) => self.if_with(dot, branch, false)?,
                Node::With(branch) => self.if_with(dot, branch, true)?,
                Node::Range(branch) => self.range(dot, branch)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn if_with(&mut self, dot: &Value, branch: &Branch, sets_dot: bool) -> Result<Flow, String> {
        let saved = self.vars.len();
        let value = self.pipeline(dot, &branch.pipe)?;
        let truth = value.as_ref().is_some_and(Value::is_true);
        let flow = if truth {
            match (sets_dot, value) {
                (true, Some(inner)) => self.walk(&inner, &branch.list)?,
                _ => self.walk(dot, &branch.list)?,
            }
        } else if let Some(else_list) = &branch.else_list {
            self.walk(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(saved);
        Ok(flow)
    }

    fn range(&mut self, dot: &Value, branch: &Branch) -> Result<Flow, String> {
        let saved = self.vars.len();
        let pipe = &branch.pipe;
        let value = self.commands(dot, pipe)?;
        // Items are visited in place: the list or map is shared with the data, not copied.
        let iterated = match &value {
            None | Some(Value::Nil) => false,
            Some(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if self.range_item(branch, || Value::Int(i as i64), item)? {
                        break;
                    }
                }
                !items.is_empty()
            }
            Some(Value::Map(map)) => {
                for (key, item) in map.iter() {
                    if self.range_item(branch, || Value::String(key.clone()), item)? {
                        break;
                    }
                }
                !map.is_empty()
            }
            Some(other) => return self.error(pipe.pos, pipe, format!("range can't iterate over {other}")),
        };
        let flow = match &branch.else_list {
            Some(else_list) if !iterated => self.walk(dot, else_list)?,
            _ => Flow::Normal,
        };
        self.vars.truncate(saved);
        Ok(flow)
    }

    /// Runs one `range` iteration over `item`; true when its body broke out of the loop.
    fn range_item(&mut self, branch: &Branch, key: impl FnOnce() -> Value, item: &Value) -> Result<bool, String> {
        let saved = self.vars.len();
        let pipe = &branch.pipe;
        match pipe.decl.as_slice() {
            [element] => self.bind(element, item.clone(), pipe.is_assign),
            [index, element] => {
                self.bind(index, key(), pipe.is_assign);
                self.bind(element, item.clone(), pipe.is_assign);
            }
            _ => {}
        }
        let flow = self.walk(item, &branch.list)?;
        self.vars.truncate(saved);
        Ok(matches!(flow, Flow::Break))
    }

    fn bind(&mut self, name: &str, value: Value, is_assign: bool) {
        if is_assign {
            if let Some(slot) = self.vars.iter_mut().rev().find(|(var, _)| var == name) {
                slot.1 = value;
            }
        } else {
            self.vars.push((name.to_owned(), value));
        }
    }

    /// Runs a pipeline's commands, then its declarations.
    fn pipeline(&mut self, dot: &Value, pipe: &Pipeline) -> Result<Eval, String> {
        let value = self.commands(dot, pipe)?;
        for name in &pipe.decl {
            self.bind(name, value.clone().unwrap_or(Value::Nil), pipe.is_assign);
        }
        Ok(value)
    }

    fn commands(&mut self, dot: &Value, pipe: &Pipeline) -> Result<Eval, String> {
        let mut value: Option<Eval> = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(dot, cmd, value)?);
        }
        Ok(value.flatten())
    }

    fn command(&mut self, dot: &Value, cmd: &Command, last: Option<Eval>) -> Result<Eval, String> {
        let has_args = cmd.args.len() > 1 || last.is_some();
        let first = &cmd.args[0];
        match first {
            Operand::Function { pos, name } => self.call(dot, cmd, *pos, name, &cmd.args[1..], last),
            Operand::Field { pos, names } => self.fields(*pos, first, Some(dot), names, has_args),
            Operand::Variable { pos, name, names } => {
                let var = self.variable(*pos, first, name)?;
                self.fields(*pos, first, Some(var), names, has_args)
            }
            Operand::Chain { pos, inner, names } => {
                let base = self.argument(dot, inner)?;
                self.fields(*pos, first, base.as_ref(), names, has_args)
            }
            Operand::Nil(pos) => self.error(*pos, first, "nil is not a command"),
            other if has_args => self.error(
                other.pos(),
                other,
                format!("can't give argument to non-function {other}"),
            ),
            other => self.argument(dot, other),
        }
    }

    fn variable(&self, pos: usize, node: &Operand, name: &str) -> Result<&Value, String> {
        match self.vars.iter().rev().find(|(var, _)| var == name) {
            Some((_, value)) => Ok(value),
            None => self.error(pos, node, format!("undefined variable: {name}")),
        }
    }

    /// Follows `.A.B...` from `receiver`.
    fn fields(
        &self,
        pos: usize,
        node: &Operand,
        receiver: Option<&Value>,
        names: &[String],
        has_args: bool,
    ) -> Result<Eval, String> {
        let mut current = receiver;
        for (i, name) in names.iter().enumerate() {
            let last = i + 1 == names.len();
            current = match current {
                None => None,
                Some(Value::Struct(s)) => match s.field(name) {
                    Some(_) if last && has_args => {
                        return self.error(
                            pos,
                            node,
                            format!("{name} has arguments but cannot be invoked as function"),
                        );
                    }
                    Some(value) => Some(value),
                    None => {
                        return self.error(pos, node, format!("can't evaluate field {name} in type {}", s.name));
                    }
                },
                Some(Value::Map(map)) => {
                    if last && has_args {
                        return self.error(pos, node, format!("{name} is not a method but has arguments"));
                    }
                    map.get(name)
                }
                Some(Value::Nil) => {
                    return self.error(pos, node, format!("nil pointer evaluating interface {{}}.{name}"));
                }
                Some(other) => {
                    return self.error(
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {}", other.type_name()),
                    );
                }
            };
        }
        if names.is_empty() && has_args {
            return self.error(pos, node, format!("can't give argument to non-function {node}"));
        }
        Ok(current.cloned())
    }

    /// The value of an operand used as an argument.
    fn argument(&mut self, dot: &Value, operand: &Operand) -> Result<Eval, String> {
        Ok(match operand {
            Operand::Dot(_) => Some(dot.clone()),
            Operand::Nil(_) => Some(Value::Nil),
            Operand::Bool(_, b) => Some(Value::Bool(*b)),
            Operand::Str { value, .. } => Some(Value::String(value.clone())),
            Operand::Number { value, .. } => Some(match value {
                Number::Int(n) => Value::Int(*n),
                Number::Uint(n) => Value::Uint(*n),
                Number::Float(f) => Value::Float(*f),
            }),
            Operand::Field { pos, names } => self.fields(*pos, operand, Some(dot), names, false)?,
            Operand::Variable { pos, name, names } => {
                let var = self.variable(*pos, operand, name)?;
                self.fields(*pos, operand, Some(var), names, false)?
            }
            Operand::Chain { pos, inner, names } => {
                let base = self.argument(dot, inner)?;
                self.fields(*pos, operand, base.as_ref(), names, false)?
            }
            Operand::Pipeline(pipe) => {
                let saved = self.vars.len();
                let value = self.pipeline(dot, pipe)?;
                self.vars.truncate(saved);
                value
            }
            Operand::Function { pos, name } => {
                let cmd = Command {
                    pos: *pos,
                    args: vec![operand.clone()],
                };
                self.call(dot, &cmd, *pos, name, &[], None)?
            }
        })
    }

    fn call(
        &mut self,
        dot: &Value,
        cmd: &Command,
        pos: usize,
        name: &str,
        args: &[Operand],
        last: Option<Eval>,
    ) -> Result<Eval, String> {
        let Some(func) = self.funcs.get(name) else {
            return self.error(pos, &name, format!("\"{name}\" is not a defined function"));
        };
        let count = args.len() + usize::from(last.is_some());
        match func {
            Func::And | Func::Or => {
                if count == 0 {
                    return self.error(
                        pos,
                        &name,
                        format!("wrong number of args for {name}: want at least 1 got 0"),
                    );
                }
                // Go stops at the first argument that decides the result.
                let wants = matches!(func, Func::Or);
                let mut value = None;
                for arg in args {
                    value = self.argument(dot, arg)?;
                    if value.as_ref().is_some_and(Value::is_true) == wants {
                        return Ok(value);
                    }
                }
                if let Some(last) = last {
                    value = last;
                }
                Ok(value)
            }
            Func::Plain { min, max, call } => {
                let arity_ok = count >= *min && max.is_none_or(|max| count <= max);
                if !arity_ok {
                    let want = match max {
                        Some(max) if max == min => format!("want {min}"),
                        Some(max) => format!("want {min} to {max}"),
                        None => format!("want at least {min}"),
                    };
                    return self.error(
                        pos,
                        &name,
                        format!("wrong number of args for {name}: {want} got {count}"),
                    );
                }
                let mut values = Vec::with_capacity(count);
                for arg in args {
                    values.push(self.argument(dot, arg)?.unwrap_or(Value::Nil));
                }
                if let Some(last) = last {
                    values.push(last.unwrap_or(Value::Nil));
                }
                match call(&values) {
                    Ok(value) => Ok(Some(value)),
                    Err(FuncError::Call(message)) => {
                        self.error(cmd.pos, cmd, format!("error calling {name}: {message}"))
                    }
                    Err(FuncError::Argument(message)) => self.error(pos, &name, message),
                }
            }
        }
    }
}

/// Prints an action's value: Go's `%v`, `<no value>` for a missing one.
fn print_value(out: &mut String, value: &Eval) {
    match value {
        None => out.push_str("<no value>"),
        Some(Value::String(text)) => out.push_str(text),
        Some(value) => out.push_str(&value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_columns() {
        assert_eq!(location("{{.A}}", 2), (1, 2));
        assert_eq!(location("ab\n{{.A}}", 5), (2, 2));
    }
}
