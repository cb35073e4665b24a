//! The evaluation context of an OFREP request body, read in one pass
//! without building a JSON tree: `{"context": {"targetingKey": …, "world":
//! …, "village": …, "account": …, "player": …, …}}`.

use std::fmt;

use liveops_flags::Context;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// The context of `body`, with `world` defaulting to the agent's. An empty
/// body is an empty context. `Err` is the reason, for `errorDetails`.
pub fn parse_context(body: &[u8], world: &str) -> Result<Context, String> {
    let mut ctx = if body.iter().all(u8::is_ascii_whitespace) {
        Context::default()
    } else {
        serde_json::from_slice::<Request>(body)
            .map_err(|e| format!("invalid request body: {e}"))?
            .context
            .map(|c| c.0)
            .unwrap_or_default()
    };
    if ctx.world.is_none() {
        ctx.world = Some(world.to_owned());
    }
    Ok(ctx)
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    context: Option<Ctx>,
}

struct Ctx(Context);

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Field {
    TargetingKey,
    World,
    Village,
    Account,
    Player,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Ctx {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(CtxVisitor)
    }
}

struct CtxVisitor;

impl<'de> Visitor<'de> for CtxVisitor {
    type Value = Ctx;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object for `context`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ctx, A::Error> {
        let mut ctx = Context::default();
        while let Some(key) = map.next_key::<Field>()? {
            let (slot, name) = match key {
                Field::TargetingKey => (&mut ctx.targeting_key, "targetingKey"),
                Field::World => (&mut ctx.world, "world"),
                Field::Village => (&mut ctx.village, "village"),
                Field::Account => (&mut ctx.account, "account"),
                Field::Player => (&mut ctx.player, "player"),
                // Other attributes of an OpenFeature context mean nothing here.
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value_seed(Id(name))?;
        }
        Ok(Ctx(ctx))
    }
}

/// One id: a string, or an integer taken as its decimal text; `null` is
/// absent.
struct Id(&'static str);

impl<'de> DeserializeSeed<'de> for Id {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Id {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string or an integer for `context.{}`", self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Context {
        parse_context(body.as_bytes(), "w0").unwrap()
    }

    fn err(body: &str) -> String {
        parse_context(body.as_bytes(), "w0").unwrap_err()
    }

    #[test]
    fn reads_ids_as_strings_or_integers_and_defaults_the_world() {
        let c = ok(
            r#"{"context":{"targetingKey":"u1","player":42,"account":"a\"1","village":null,
                      "email":"x@y","nested":{"world":"no"}},"other":[1]}"#,
        );
        assert_eq!(c.targeting_key.as_deref(), Some("u1"));
        assert_eq!(c.player.as_deref(), Some("42"));
        assert_eq!(c.account.as_deref(), Some("a\"1"));
        assert_eq!(c.village, None);
        assert_eq!(c.world.as_deref(), Some("w0"));
        assert_eq!(
            ok(r#"{"context":{"world":"w9"}}"#).world.as_deref(),
            Some("w9")
        );
        assert_eq!(ok("").world.as_deref(), Some("w0"));
        assert_eq!(ok("{}").player, None);
    }

    #[test]
    fn rejects_what_cannot_be_an_id_or_a_context() {
        for (body, want) in [
            (
                r#"{"context":{"player":1.5}}"#,
                "a string or an integer for `context.player`",
            ),
            (
                r#"{"context":{"world":true}}"#,
                "a string or an integer for `context.world`",
            ),
            (
                r#"{"context":{"account":["a"]}}"#,
                "a string or an integer for `context.account`",
            ),
            (r#"{"context":"w1"}"#, "an object for `context`"),
            (r#"{"context":{"player":"#, "EOF"),
            ("[1]", "invalid request body"),
        ] {
            let got = err(body);
            assert!(got.contains(want), "{body}: {got}");
            assert!(got.starts_with("invalid request body: "), "{got}");
        }
    }
}
