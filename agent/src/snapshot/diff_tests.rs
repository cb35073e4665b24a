use serde_json::json;

use super::*;

fn village(id: &str, owner: &str, gold: u64, wall: u64) -> Value {
    json!({"kind":"village","id":id,"owner":owner,
           "data":{"resources":{"gold":gold,"wood":5},"buildings":{"wall":wall}}})
}

fn pair(old: Option<Value>, new: Option<Value>) -> Pair {
    Pair { old, new }
}

#[test]
fn an_exploit_stands_at_the_top_of_the_deltas() {
    let pairs = vec![
        pair(
            Some(village("v1", "p1", 100, 1)),
            Some(village("v1", "p1", 130, 1)),
        ),
        pair(
            Some(village("v2", "p9", 100, 1)),
            Some(village("v2", "p9", 900_100, 1)),
        ),
        pair(
            Some(village("v10", "p9", 50, 1)),
            Some(village("v10", "p9", 800_050, 2)),
        ),
        pair(
            Some(village("v3", "p2", 7, 1)),
            Some(village("v3", "p2", 7, 1)),
        ),
        pair(None, Some(village("v4", "p2", 1, 1))),
        pair(Some(village("v5", "p3", 1, 1)), None),
    ];
    let r = report("s-1", "s-2", pairs, &Filter::default());
    assert_eq!(
        r.kinds["village"],
        KindCounts {
            added: 1,
            removed: 1,
            changed: 3
        },
        "the equal pair is not a change"
    );
    let top: Vec<(&str, &str, f64)> = r
        .largest
        .iter()
        .take(2)
        .map(|d| (d.id.as_str(), d.path.as_str(), d.delta))
        .collect();
    assert_eq!(
        top,
        [
            ("v2", "data.resources.gold", 900_000.0),
            ("v10", "data.resources.gold", 800_000.0)
        ]
    );
    assert_eq!(r.fields[0], ("data.resources.gold".to_string(), 5));
    let ids: Vec<&str> = r.entities.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["v1", "v2", "v4", "v5", "v10"], "natural order");
    let v10 = &r.entities[4];
    let paths: Vec<&str> = v10.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["data.buildings.wall", "data.resources.gold"]);
    assert_eq!(
        (v10.fields[0].old.clone(), v10.fields[0].new.clone()),
        (json!(1), json!(2))
    );
}

#[test]
fn filters_pick_kinds_ids_and_owners() {
    let pairs = || {
        vec![
            pair(
                Some(village("v1", "p1", 1, 1)),
                Some(village("v1", "p1", 2, 1)),
            ),
            pair(
                Some(village("v2", "p2", 1, 1)),
                Some(village("v2", "p2", 2, 1)),
            ),
            pair(
                Some(json!({"kind":"player","id":"p1","owner":"a1","data":{"level":1}})),
                Some(json!({"kind":"player","id":"p1","owner":"a1","data":{"level":2}})),
            ),
            // Traded away: the old owner must see it too.
            pair(
                Some(village("v3", "p1", 1, 1)),
                Some(village("v3", "p7", 1, 1)),
            ),
        ]
    };
    let ids = |f: Filter| -> Vec<String> {
        report("a", "b", pairs(), &f)
            .entities
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(
        ids(Filter {
            owner: vec!["p1".into()],
            ..Filter::default()
        }),
        ["v1", "v3"]
    );
    assert_eq!(
        ids(Filter {
            kind: vec!["player".into()],
            ..Filter::default()
        }),
        ["p1"]
    );
    assert_eq!(
        ids(Filter {
            id: vec!["p1".into()],
            owner: vec!["p2".into()],
            ..Filter::default()
        }),
        ["p1", "v2"]
    );
    assert_eq!(
        ids(Filter {
            kind: vec!["village".into()],
            id: vec!["p1".into()],
            ..Filter::default()
        }),
        Vec::<String>::new()
    );
}

#[test]
fn added_fields_removed_fields_and_non_numbers() {
    let mut out = Vec::new();
    compare(
        "",
        &json!({"a":{"x":1,"gone":true},"tags":[1,2],"name":"old"}),
        &json!({"a":{"x":1,"new":{"deep":3}},"tags":[2,1],"name":"new"}),
        &mut out,
    );
    let paths: Vec<&str> = out.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["a.gone", "a.new.deep", "name", "tags"]);
    let r = report(
        "a",
        "b",
        vec![pair(
            Some(json!({"kind":"k","id":"1","data":{"n":"x"}})),
            Some(json!({"kind":"k","id":"1","data":{"n":1e300}})),
        )],
        &Filter::default(),
    );
    assert_eq!(
        r.largest[0].delta, 1e300,
        "a string turned number counts from zero"
    );
}
