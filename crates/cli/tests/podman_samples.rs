//! The output layer against podman 4.3.1's real output (tests/fixtures,
//! copied from the project's shared samples): tables built from the same
//! rows, and JSON printed from the same data, must equal podman's bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use corral_cli::format::{Headers, JsonStyle, ListFormat, Struct, Value, write_json};
use serde::Serialize;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/podman-4.3.1/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A small JSON reader that keeps object keys in file order, so that the
/// printer can be checked against podman's bytes.
struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self.text.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) {
        self.skip_space();
        assert_eq!(self.text[self.pos], byte, "expected {:?} at {}", byte as char, self.pos);
        self.pos += 1;
    }

    fn peek(&mut self) -> u8 {
        self.skip_space();
        self.text[self.pos]
    }

    fn value(&mut self) -> Value {
        match self.peek() {
            b'{' => {
                self.eat(b'{');
                let mut fields = Vec::new();
                if self.peek() == b'}' {
                    self.eat(b'}');
                } else {
                    loop {
                        let key = self.string();
                        self.eat(b':');
                        fields.push((key.into(), self.value()));
                        if self.peek() == b',' {
                            self.eat(b',');
                        } else {
                            self.eat(b'}');
                            break;
                        }
                    }
                }
                Value::Struct(
                    Struct {
                        name: "object".into(),
                        fields,
                    }
                    .into(),
                )
            }
            b'[' => {
                self.eat(b'[');
                let mut items = Vec::new();
                if self.peek() == b']' {
                    self.eat(b']');
                } else {
                    loop {
                        items.push(self.value());
                        if self.peek() == b',' {
                            self.eat(b',');
                        } else {
                            self.eat(b']');
                            break;
                        }
                    }
                }
                Value::List(items.into())
            }
            b'"' => Value::String(self.string()),
            _ => self.literal(),
        }
    }

    fn literal(&mut self) -> Value {
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.text[start..self.pos]).unwrap();
        match word {
            "null" => Value::Nil,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            number if number.contains(['.', 'e', 'E']) => Value::Float(number.parse().unwrap()),
            number => number
                .parse::<i64>()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Uint(number.parse().unwrap())),
        }
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut bytes = Vec::new();
        loop {
            let byte = self.text[self.pos];
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escape = self.text[self.pos];
                    self.pos += 1;
                    let decoded = match escape {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(&self.text[self.pos..self.pos + 4]).unwrap();
                            self.pos += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap()
                        }
                        other => other as char,
                    };
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
                }
                other => bytes.push(other),
            }
        }
        String::from_utf8(bytes).unwrap()
    }
}

fn read_json(text: &str) -> Value {
    Reader {
        text: text.as_bytes(),
        pos: 0,
    }
    .value()
}

fn assert_json_round_trip(name: &str, style: JsonStyle) {
    let sample = fixture(name);
    let printed = write_json(&read_json(&sample), style) + "\n";
    assert!(printed == sample, "{name} differs from podman's output:\n{printed}");
}

#[test]
fn list_json_is_json_iterator_with_two_spaces() {
    assert_json_round_trip("ps.json", JsonStyle::LIST);
    assert_json_round_trip("pod-ps.json", JsonStyle::LIST);
    assert_json_round_trip("info.json", JsonStyle::LIST);
}

#[test]
fn images_json_has_four_spaces() {
    assert_json_round_trip("images.json", JsonStyle::IMAGES);
}

#[test]
fn inspect_json_has_five_spaces_and_compact_empty_objects() {
    for name in [
        "inspect-container.json",
        "inspect-image.json",
        "inspect-network.json",
        "inspect-pod.json",
        "inspect-volume.json",
    ] {
        assert_json_round_trip(name, JsonStyle::INSPECT);
    }
}

#[test]
fn styles_are_not_interchangeable() {
    let ps = read_json(&fixture("ps.json"));
    assert_ne!(write_json(&ps, JsonStyle::INSPECT) + "\n", fixture("ps.json"));
}

#[derive(Serialize)]
struct PsRow {
    #[serde(rename = "ID")]
    id: &'static str,
    #[serde(rename = "Image")]
    image: &'static str,
    #[serde(rename = "Command")]
    command: &'static str,
    #[serde(rename = "CreatedHuman")]
    created_human: &'static str,
    #[serde(rename = "Status")]
    status: &'static str,
    #[serde(rename = "Ports")]
    ports: &'static str,
    #[serde(rename = "Names")]
    names: &'static str,
}

#[test]
fn ps_table_matches_podman() {
    let rows = [
        PsRow {
            id: "6c74672d5fc9",
            image: "localhost/busybox:latest",
            command: "httpd -f -p 80 -h...",
            created_human: "Less than a second ago",
            status: "Up 1 second ago",
            ports: "127.0.0.1:18099->80/tcp",
            names: "web",
        },
        PsRow {
            id: "b6d4b467c421",
            image: "localhost/podman-pause:4.3.1-0",
            command: "",
            created_human: "Less than a second ago",
            status: "Created",
            ports: "",
            names: "c64be97fec20-infra",
        },
    ];
    let headers = Headers::new()
        .with("CreatedHuman", "created")
        .with("ID", "container id");
    let ps = ListFormat {
        name: "ps",
        default_format: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
        headers: &headers,
        json_style: JsonStyle::LIST,
    };
    assert_eq!(ps.render(None, false, &rows).unwrap(), fixture("ps.txt"));
}

#[derive(Serialize)]
struct ImageRow {
    #[serde(rename = "Repository")]
    repository: &'static str,
    #[serde(rename = "Tag")]
    tag: &'static str,
    #[serde(rename = "ID")]
    id: &'static str,
    #[serde(rename = "Created")]
    created: &'static str,
    #[serde(rename = "Size")]
    size: &'static str,
}

#[test]
fn images_table_matches_podman() {
    let rows = [
        ImageRow {
            repository: "localhost/podman-pause",
            tag: "4.3.1-0",
            id: "3bd63a1ddc6d",
            created: "Less than a second ago",
            size: "703 kB",
        },
        ImageRow {
            repository: "localhost/busybox",
            tag: "latest",
            id: "c6615c75c148",
            created: "56 years ago",
            size: "2.14 MB",
        },
    ];
    let headers = Headers::new().with("ID", "IMAGE ID").with("ReadOnly", "R/O");
    let images = ListFormat {
        name: "images",
        default_format: "{{range . }}{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}\t\
                         {{if .Tag}}{{.Tag}}{{else}}<none>{{end}}\t{{.ID}}\t{{.Created}}\t{{.Size}}\n{{end -}}",
        headers: &headers,
        json_style: JsonStyle::IMAGES,
    };
    assert_eq!(images.render(None, false, &rows).unwrap(), fixture("images.txt"));
}

#[derive(Serialize)]
struct PodRow {
    #[serde(rename = "Id")]
    id: &'static str,
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Status")]
    status: &'static str,
    #[serde(rename = "Created")]
    created: &'static str,
    #[serde(rename = "InfraID")]
    infra_id: &'static str,
    #[serde(rename = "NumberOfContainers")]
    number_of_containers: u32,
}

#[test]
fn pod_ps_table_matches_podman() {
    let rows = [PodRow {
        id: "c64be97fec20",
        name: "p1",
        status: "Created",
        created: "Less than a second ago",
        infra_id: "b6d4b467c421",
        number_of_containers: 1,
    }];
    let headers = Headers::new()
        .with("Id", "POD ID")
        .with("InfraID", "INFRA ID")
        .with("NumberOfContainers", "# OF CONTAINERS");
    let pods = ListFormat {
        name: "ps",
        default_format: "{{range . }}{{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}\n{{end -}}",
        headers: &headers,
        json_style: JsonStyle::LIST,
    };
    assert_eq!(pods.render(None, false, &rows).unwrap(), fixture("pod-ps.txt"));
    // --noheading drops the header row only.
    let body = pods.render(None, true, &rows).unwrap();
    assert_eq!(body, fixture("pod-ps.txt").lines().nth(1).unwrap().to_owned() + "\n");
}
