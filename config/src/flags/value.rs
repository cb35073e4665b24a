//! Flag values as TOML writes them, shared by the flag file and the
//! mitigation bundles so both accept exactly the same values.

use std::ops::Range;

use liveops_flags::FlagValue;
use toml::Spanned;

use crate::error::Sink;

pub(crate) fn flag_value(
    v: &Spanned<toml::Value>,
    what: &str,
    sink: &mut Sink<'_>,
) -> Option<FlagValue> {
    match convert(v.get_ref()) {
        Ok(value) => Some(value),
        Err(why) => {
            sink.at(v.span(), format!("{what}: {why}"));
            None
        }
    }
}

pub(crate) fn convert(v: &toml::Value) -> Result<FlagValue, String> {
    Ok(match v {
        toml::Value::Boolean(b) => FlagValue::Bool(*b),
        toml::Value::Integer(i) => FlagValue::Integer(*i),
        toml::Value::Float(f) if f.is_finite() => FlagValue::Float(*f),
        toml::Value::Float(_) => return Err("a flag value cannot be infinite or NaN".into()),
        toml::Value::String(s) => FlagValue::String(s.clone()),
        toml::Value::Table(t) => FlagValue::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), convert(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        toml::Value::Array(_) => {
            return Err("a flag value is a boolean, number, string or table, not an array".into());
        }
        toml::Value::Datetime(_) => {
            return Err("a flag value is a boolean, number, string or table, not a date".into());
        }
    })
}

pub(crate) fn same_type(
    default: Option<&FlagValue>,
    v: &FlagValue,
    span: Range<usize>,
    sink: &mut Sink<'_>,
) -> bool {
    match default {
        Some(d) if d.type_name() != v.type_name() => {
            sink.at(
                span,
                format!(
                    "this value is a {} but the flag's default is a {}",
                    v.type_name(),
                    d.type_name()
                ),
            );
            false
        }
        _ => true,
    }
}
