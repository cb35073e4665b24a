//! A TOML document split into sections that are deserialized one by one.
//!
//! serde stops at the first error inside one value, so each top-level
//! section (and each entry of a table of tables such as `[slo.*]`) is
//! deserialized on its own: a typo in one SLO does not hide a typo in another.

use std::ops::Range;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::Sink;

pub(crate) struct Document<'i> {
    root: Spanned<DeTable<'i>>,
}

/// One named entry of a table, with where its key and its value are.
pub(crate) struct Entry<'i> {
    pub name: String,
    pub key_span: Range<usize>,
    pub value: Spanned<DeValue<'i>>,
}

impl<'i> Document<'i> {
    /// Parses the text; syntax errors go to `sink` and give `None`.
    pub(crate) fn parse(text: &'i str, sink: &mut Sink<'_>) -> Option<Document<'i>> {
        let (root, errors) = DeTable::parse_recoverable(text);
        for e in &errors {
            sink.toml(e, 0..0);
        }
        errors.is_empty().then_some(Document { root })
    }

    pub(crate) fn entries(&self) -> Vec<Entry<'i>> {
        table_entries(self.root.get_ref())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.root.get_ref().iter().any(|(k, _)| k.get_ref() == key)
    }
}

pub(crate) fn table_entries<'i>(table: &DeTable<'i>) -> Vec<Entry<'i>> {
    table
        .iter()
        .map(|(k, v)| Entry {
            name: k.get_ref().to_string(),
            key_span: k.span(),
            value: v.clone(),
        })
        .collect()
}

/// Deserializes one value, reporting failure to `sink`.
pub(crate) fn decode<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
    sink: &mut Sink<'_>,
) -> Option<T> {
    let span = value.span();
    match T::deserialize(value.into_deserializer()) {
        Ok(v) => Some(v),
        Err(e) => {
            sink.toml(&e, span);
            None
        }
    }
}

/// The elements of an array of tables (`[[token]]`), each decoded alone.
pub(crate) fn decode_array<T: DeserializeOwned>(
    entry: Entry<'_>,
    sink: &mut Sink<'_>,
) -> Vec<(Range<usize>, T)> {
    match entry.value.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .filter_map(|item| {
                let span = item.span();
                decode(item.clone(), sink).map(|v| (span, v))
            })
            .collect(),
        _ => {
            sink.at(
                entry.key_span,
                format!(
                    "`{}` must be an array of tables: write it as [[{}]]",
                    entry.name, entry.name
                ),
            );
            Vec::new()
        }
    }
}

/// The entries of a table of tables (`[slo.NAME]`).
pub(crate) fn sub_entries<'i>(entry: &Entry<'i>, sink: &mut Sink<'_>) -> Vec<Entry<'i>> {
    match entry.value.get_ref() {
        DeValue::Table(t) => table_entries(t),
        _ => {
            sink.at(
                entry.key_span.clone(),
                format!(
                    "`{}` must be a table of tables, like [{}.NAME]",
                    entry.name, entry.name
                ),
            );
            Vec::new()
        }
    }
}

/// The error for a top-level key no config kind knows.
pub(crate) fn unknown_section(entry: &Entry<'_>, known: &[&str], sink: &mut Sink<'_>) {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    sink.at(
        entry.key_span.clone(),
        format!("unknown section `{}`, expected one of {list}", entry.name),
    );
}
