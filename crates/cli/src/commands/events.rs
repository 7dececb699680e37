//! `corral events` (and `system events`): the recorded events, filtered, and
//! followed as they happen unless `--stream=false`.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use clap::{ArgAction, Args};
use corral_core::{Event, ReadOptions, go_time_string};
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::engine;
use crate::format::{GoTemplate, JsonStyle, Template, is_json, normalize_format, to_json_line, to_value};

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// filter output
    #[arg(short = 'f', long, value_name = "stringArray")]
    pub filter: Vec<String>,

    /// format the output using a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// do not truncate the output
    #[arg(long, value_name = "bool", action = ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub no_trunc: bool,

    /// show all events created since timestamp
    #[arg(long, value_name = "string")]
    pub since: Option<String>,

    /// stream events and do not exit when returning the last known event
    #[arg(long, value_name = "bool", action = ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub stream: bool,

    /// show all events until timestamp
    #[arg(long, value_name = "string")]
    pub until: Option<String>,
}

/// An event as podman's templates see it: every field, the time as Go prints a
/// `time.Time`, and `Details`' fields promoted as Go promotes an embedded struct's.
#[derive(Debug, Serialize)]
#[serde(rename = "*events.Event")]
struct TemplateEvent<'a> {
    #[serde(rename = "ContainerExitCode")]
    container_exit_code: i32,
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "Image")]
    image: &'a str,
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Network")]
    network: &'a str,
    #[serde(rename = "Status")]
    status: &'a str,
    #[serde(rename = "Time")]
    time: String,
    #[serde(rename = "Type")]
    event_type: &'a str,
    #[serde(rename = "HealthStatus")]
    health_status: &'a str,
    #[serde(rename = "Details")]
    details: TemplateDetails<'a>,
    #[serde(rename = "PodID")]
    pod_id: &'a str,
    #[serde(rename = "Attributes")]
    attributes: BTreeMap<&'a str, &'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "events.Details")]
struct TemplateDetails<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "PodID")]
    pod_id: &'a str,
    #[serde(rename = "Attributes")]
    attributes: BTreeMap<&'a str, &'a str>,
}

impl<'a> TemplateEvent<'a> {
    fn of(event: &'a Event) -> Self {
        let attributes: BTreeMap<&str, &str> = event
            .attributes
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        TemplateEvent {
            container_exit_code: event.container_exit_code,
            id: &event.id,
            image: &event.image,
            name: &event.name,
            network: &event.network,
            status: &event.status,
            time: go_time_string(event.time),
            event_type: &event.event_type,
            health_status: &event.health_status,
            details: TemplateDetails {
                id: &event.id,
                pod_id: &event.pod_id,
                attributes: attributes.clone(),
            },
            pod_id: &event.pod_id,
            attributes,
        }
    }
}

/// How each event is printed.
enum Output {
    /// podman's one-line layout.
    Human { truncate: bool },
    /// One JSON object a line.
    Json,
    /// The user's template, run once per event.
    Template(GoTemplate),
}

impl Output {
    fn for_args(args: &EventsArgs) -> anyhow::Result<Output> {
        Ok(match &args.format {
            Some(format) if is_json(format) => Output::Json,
            Some(format) => Output::Template(GoTemplate::parse("events", &normalize_format(format))?),
            None => Output::Human {
                truncate: !args.no_trunc,
            },
        })
    }

    fn render(&self, event: &Event) -> anyhow::Result<String> {
        Ok(match self {
            Output::Human { truncate } => format!("{}\n", event.human_readable(*truncate)),
            Output::Json => to_json_line(event, JsonStyle::COMPACT)?,
            Output::Template(template) => {
                let mut text = String::new();
                template.execute(&to_value(&TemplateEvent::of(event))?, &mut text)?;
                text
            }
        })
    }
}

pub fn run(args: &EventsArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let output = Output::for_args(args)?;
    let runtime = engine::runtime(global)?;
    let options = ReadOptions {
        filters: args.filter.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        stream: args.stream,
    };
    for event in runtime.read_events(&options)? {
        let text = output.render(&event?)?;
        out.write_all(text.as_bytes()).context("writing events")?;
        // A follower sees each event as it comes.
        out.flush().context("writing events")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Option<&str>) -> EventsArgs {
        EventsArgs {
            filter: Vec::new(),
            format: format.map(str::to_owned),
            no_trunc: true,
            since: None,
            stream: false,
            until: None,
        }
    }

    fn died() -> Event {
        let mut e = Event::new("container", "died");
        e.id = "0123456789abcdef".into();
        e.name = "web".into();
        e.image = "localhost/busybox:latest".into();
        e.container_exit_code = 3;
        e.attributes = Some(BTreeMap::from([("app".to_owned(), "<web>".to_owned())]));
        e
    }

    #[test]
    fn templates_see_podman_fields() {
        let e = died();
        let render = |format: &str| Output::for_args(&args(Some(format))).unwrap().render(&e).unwrap();
        assert_eq!(
            render("{{.Name}} {{.Status}} {{.ContainerExitCode}} {{.Attributes}}"),
            "web died 3 map[app:<web>]\n"
        );
        assert_eq!(render("{{.Time}}"), format!("{}\n", go_time_string(e.time)));
        assert_eq!(
            render("{{.Details.ID}}|{{.PodID}}|{{.Network}}"),
            "0123456789abcdef||\n"
        );
        let err = Output::for_args(&args(Some("{{.Foo}}")))
            .unwrap()
            .render(&e)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("can't evaluate field Foo in type *events.Event"),
            "{err}"
        );
        assert!(Output::for_args(&args(Some("{{.Bad"))).is_err());
    }

    #[test]
    fn json_is_podman_compact_and_html_escaped() {
        let e = died();
        let line = Output::for_args(&args(Some("json"))).unwrap().render(&e).unwrap();
        assert!(
            line.starts_with(r#"{"ContainerExitCode":3,"ID":"0123456789abcdef","Image":"#),
            "{line}"
        );
        assert!(
            line.ends_with("\"Type\":\"container\",\"Attributes\":{\"app\":\"\\u003cweb\\u003e\"}}\n"),
            "{line}"
        );
        let same = Output::for_args(&args(Some("{{json .}}"))).unwrap().render(&e).unwrap();
        assert_eq!(line, same);
    }
}
