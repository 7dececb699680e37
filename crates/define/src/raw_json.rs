//! [`RawJson`]: a JSON document carried as its text.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON document kept as text inside a record and parsed only by whoever
/// needs its contents. Listing 1,000 containers would otherwise build every
/// container's OCI spec as a tree of maps and strings just to drop it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The compact text of `value`.
    pub fn from_value(value: &serde_json::Value) -> Result<RawJson, serde_json::Error> {
        Ok(RawJson(serde_json::value::to_raw_value(value)?))
    }

    /// The document parsed into a tree.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The document's text, as stored.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

/// Equal when the texts are: records are compared after a store round trip,
/// which keeps the text byte for byte.
impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_record_unchanged() {
        let value = serde_json::json!({"mounts": [{"destination": "/proc"}], "hostname": "web"});
        let raw = RawJson::from_value(&value).unwrap();
        assert_eq!(raw.to_value().unwrap(), value);
        let text = serde_json::to_string(&serde_json::json!({"spec": raw})).unwrap();
        assert_eq!(
            text,
            r#"{"spec":{"hostname":"web","mounts":[{"destination":"/proc"}]}}"#
        );
        #[derive(Deserialize)]
        struct Holder {
            spec: RawJson,
        }
        let back: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(back.spec, raw);
        assert!(serde_json::from_str::<RawJson>("{\"unclosed\": ").is_err());
    }
}
