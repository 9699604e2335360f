//! The transformations a mapping applies to a cell (`transform = [...]`):
//! their TOML forms and the checks made when the mapping is loaded. Applying
//! them to a row's cells is `columns`'.
use super::columns::strtime;
use super::*;

/// One transformation step.
#[derive(Clone, Debug)]
pub enum Transform {
    /// `"upper"`, `"lower"` or `"trim"`.
    Simple(SimpleTransform),
    /// `{ combine = ["First", "Last"], separator = " " }`: the named columns'
    /// cells joined (empty ones skipped).
    Combine(Combine),
    /// `{ pad_left = 6, char = "0" }`.
    PadLeft(PadLeft),
    /// `{ replace = "-", with = "_" }`.
    Replace(Replace),
    /// `{ static = "value" }`: the value, whatever the cell says.
    Static(Static),
    /// `{ date_format = "%d.%m.%Y" }`: parse the value with this strftime
    /// format into a timestamp.
    DateFormat(DateFormat),
}

/// What a `transform` list entry may be, for error messages.
pub(super) const TRANSFORMS: &str = "\"upper\", \"lower\", \"trim\", { combine = [\"A\", \"B\"], separator = \" \" }, \
{ pad_left = 6, char = \"0\" }, { replace = \"-\", with = \"_\" }, { static = \"value\" } or \
{ date_format = \"%d.%m.%Y\" }";

impl<'de> Deserialize<'de> for Transform {
    /// Decided by the entry's shape (a word, or a table's key), so a
    /// mistake is named precisely instead of "did not match any variant".
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::Value::deserialize(d)?;
        let parts = |what: &str, v: toml::Value| -> Result<Transform, D::Error> {
            let r = match what {
                "combine" => v.try_into().map(Transform::Combine),
                "pad_left" => v.try_into().map(Transform::PadLeft),
                "replace" => v.try_into().map(Transform::Replace),
                "static" => v.try_into().map(Transform::Static),
                _ => v.try_into().map(Transform::DateFormat),
            };
            r.map_err(|e: toml::de::Error| {
                D::Error::custom(format!("transform {what}: {}", e.message()))
            })
            .and_then(|t| {
                t.check()
                    .map(|()| t)
                    .map_err(|m| D::Error::custom(format!("transform {what}: {m}")))
            })
        };
        match &value {
            toml::Value::String(word) => match word.as_str() {
                "upper" => Ok(Transform::Simple(SimpleTransform::Upper)),
                "lower" => Ok(Transform::Simple(SimpleTransform::Lower)),
                "trim" => Ok(Transform::Simple(SimpleTransform::Trim)),
                other => Err(D::Error::custom(format!(
                    "unknown transform {other:?}; a transform is {TRANSFORMS}"
                ))),
            },
            toml::Value::Table(t) => {
                let known = ["combine", "pad_left", "replace", "static", "date_format"];
                match known.iter().find(|k| t.contains_key(**k)) {
                    Some(what) => parts(what, value.clone()),
                    None => {
                        let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                        Err(D::Error::custom(format!(
                            "unknown transform {{ {} }}; a transform is {TRANSFORMS}",
                            keys.join(", ")
                        )))
                    }
                }
            }
            other => Err(D::Error::custom(format!(
                "a transform is {TRANSFORMS}, not {}",
                other.type_str()
            ))),
        }
    }
}

impl Transform {
    /// Refuses parameters no cell can hold (issue 13: a `pad_left` of
    /// 2^63 aborted, 10^9 took gigabytes per row) and date formats that
    /// cannot parse a date, so they are reported once, at load, with their
    /// TOML position, not on every row.
    pub(super) fn check(&self) -> Result<(), String> {
        let limit = |what: &str, bytes: usize| {
            if bytes > MAX_CELL_BYTES {
                Err(format!(
                    "{what} makes {bytes} bytes, beyond the {MAX_CELL_BYTES}-byte cell limit"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Transform::Simple(_) => Ok(()),
            Transform::Combine(c) => limit("the separator", c.separator.len()),
            Transform::PadLeft(p) => limit(
                &format!("padding to {} characters of {:?}", p.pad_left, p.char),
                p.pad_left.saturating_mul(p.char.len_utf8()),
            ),
            Transform::Replace(r) => {
                limit("the text to find", r.replace.len())?;
                limit("the replacement", r.with.len())
            }
            Transform::Static(v) => limit("the value", v.value.len()),
            Transform::DateFormat(d) => check_date_format(&d.date_format),
        }
    }
}

/// A `date_format` must format and parse back a date: this refuses an
/// empty format, a lone `%`, unknown directives (`%Q%K`) and formats that
/// name no full date.
pub(super) fn check_date_format(format: &str) -> Result<(), String> {
    if format.is_empty() {
        return Err("an empty date_format matches no date".into());
    }
    let sample = jiff::civil::date(2001, 2, 3)
        .at(4, 5, 6, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?;
    let text = jiff::fmt::strtime::format(format, &sample)
        .map_err(|e| format!("date_format {format:?} is not a valid strftime format: {e}"))?;
    match strtime(&text, format) {
        Some(_) => Ok(()),
        None => Err(format!(
            "date_format {format:?} does not give a date (it needs a year, month and day, or %s)"
        )),
    }
}

/// Transformations without parameters.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimpleTransform {
    /// Uppercase.
    Upper,
    /// Lowercase.
    Lower,
    /// Remove surrounding whitespace.
    Trim,
}

/// See [`Transform::Combine`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combine {
    /// Headers to join, in order.
    pub combine: Vec<String>,
    /// Put between parts (default one space).
    #[serde(default = "space")]
    pub separator: String,
}

pub(super) fn space() -> String {
    " ".into()
}

/// See [`Transform::PadLeft`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PadLeft {
    /// Minimum length in characters.
    pub pad_left: usize,
    /// Padding character (default `0`).
    #[serde(default = "zero")]
    pub char: char,
}

pub(super) fn zero() -> char {
    '0'
}

/// See [`Transform::Replace`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    /// Text to find.
    pub replace: String,
    /// Replacement.
    pub with: String,
}

/// See [`Transform::Static`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Static {
    /// The value.
    #[serde(rename = "static")]
    pub value: String,
}

/// See [`Transform::DateFormat`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateFormat {
    /// strftime format, e.g. `%d.%m.%Y`.
    pub date_format: String,
}
