//! The access patterns of stored entities: the queries their key templates
//! allow, each settled once as a typed repository method
//! (`orders_by_status`), so that hand-written code names what it reads, not
//! an index.

use super::names::{self, Scope};
use super::storage::{Collection, Entity, KeyTemplates, Part, Pattern, Table, Template};

/// Methods `Store` has of its own: a repository method of the same name would
/// be shadowed by them.
const STORE_METHODS: &[&str] = &[
    "create",
    "get",
    "put",
    "update",
    "delete",
    "query",
    "memory",
    "dynamo",
    "ensure_tables",
    "if_match",
    "clone",
];

/// Settles every entity's query and scan methods in one scope: one store type
/// implements every repository, so their methods must differ from each other
/// and from the create/get/put/update/delete methods already named.
pub fn settle(
    entities: &mut [Entity],
    tables: &[Table],
    type_names: &mut Scope,
) -> Vec<Collection> {
    let mut scope = Scope::default();
    for name in STORE_METHODS {
        scope.claim((*name).to_string());
    }
    for e in entities.iter() {
        for verb in ["create", "get", "put", "update", "delete"] {
            scope.claim(format!("{verb}_{}", e.singular));
        }
        // A keyword's singular ends in `_` (`crate_`): the suffix follows its stem.
        for verb in ["update", "delete"] {
            scope.claim(format!("{verb}_{}_if", e.singular.trim_end_matches('_')));
        }
    }
    for e in entities.iter_mut() {
        let table = &tables[e.table];
        let mut patterns = Vec::new();
        // A primary key whose sort key is fixed names one item: that is `get`.
        if e.key.sk.as_ref().is_some_and(|sk| !sk.is_constant()) {
            patterns.push(pattern(&mut scope, &e.plural, None, "table", &e.key));
        }
        for ix in &e.indexes {
            let index_name = &table.indexes[ix.index].name;
            patterns.push(pattern(
                &mut scope,
                &e.plural,
                Some(ix.index),
                index_name,
                &ix.key,
            ));
        }
        e.patterns = patterns;
        e.scan_method = scope.claim(format!("scan_{}", e.plural));
        e.batch_get_method = scope.claim(format!("get_{}", e.plural));
    }
    collections(entities, &mut scope, type_names)
}

/// Entities of one table whose primary partition key templates are the same text.
fn collections(entities: &[Entity], scope: &mut Scope, type_names: &mut Scope) -> Vec<Collection> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let same = |g: &Vec<usize>| {
            let first = &entities[g[0]];
            first.table == e.table && first.key.pk.source == e.key.pk.source
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut out = Vec::new();
    for mut members in groups.into_iter().filter(|g| g.len() > 1) {
        // The item with a fixed sort key heads the partition (`PROFILE` of a customer).
        let fixed = |i: &usize| {
            entities[*i]
                .key
                .sk
                .as_ref()
                .is_none_or(|sk| sk.is_constant())
        };
        members.sort_by_key(|i| !fixed(i));
        let head = &entities[members[0]];
        let others: Vec<&str> = members[1..]
            .iter()
            .map(|i| entities[*i].plural.as_str())
            .collect();
        let method = scope.claim(format!("{}_and_{}", head.singular, others.join("_and_")));
        let head_type = names::type_name(&head.schema);
        let type_name = type_names.claim(format!("{head_type}Collection"));
        out.push(Collection {
            repository: type_names.claim(format!("{type_name}Repository")),
            type_name,
            method,
            partition: head.key.pk.vars().map(str::to_string).collect(),
            members,
        });
    }
    out
}

fn pattern(
    scope: &mut Scope,
    plural: &str,
    index: Option<usize>,
    index_name: &str,
    key: &KeyTemplates,
) -> Pattern {
    let partition: Vec<String> = key.pk.vars().map(str::to_string).collect();
    let by_index = format!("{plural}_by_{}", words(index_name));
    let wanted = if partition.is_empty() {
        // A partition without variables is a fixed set ("FEATURED_CATEGORIES"):
        // its text says what it holds better than the index's name does.
        let fixed = words(&key.pk.static_prefix());
        if fixed.is_empty() {
            by_index.clone()
        } else {
            fixed
        }
    } else {
        let vars: Vec<String> = partition.iter().map(|v| words(v)).collect();
        format!("{plural}_by_{}", vars.join("_and_"))
    };
    let method = if scope.contains(&wanted) || !is_plain(&wanted) {
        scope.claim(by_index)
    } else {
        scope.claim(wanted)
    };
    Pattern {
        method,
        index,
        partition,
        range: key.sk.as_ref().and_then(first_var),
    }
}

/// A name's words in snake case, without a raw-identifier prefix.
fn words(s: &str) -> String {
    names::field_name(s)
        .trim_start_matches("r#")
        .trim_end_matches('_')
        .to_string()
}

/// An identifier that needs no `r#` and no numbering to be one.
fn is_plain(name: &str) -> bool {
    !name.is_empty() && names::field_name(name) == name
}

fn first_var(t: &Template) -> Option<String> {
    t.parts.iter().find_map(|p| match p {
        Part::Var { field, .. } => Some(field.clone()),
        Part::Lit(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn patterns(spec: &str) -> Vec<(String, Vec<String>)> {
        let loaded = crate::load::parse(Path::new("t.yaml"), spec.to_string()).expect("parses");
        let api = crate::model::build(&loaded, None).expect("valid");
        api.entities
            .iter()
            .flat_map(|e| {
                e.patterns
                    .iter()
                    .map(|p| (p.method.clone(), p.partition.clone()))
                    .chain([(e.scan_method.clone(), vec![])])
                    .chain([(e.batch_get_method.clone(), vec![])])
            })
            .collect()
    }

    #[test]
    fn patterns_are_named_after_their_partition() {
        let spec = r#"openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK, indexes: {GSI1: {pk: GSI1PK, sk: GSI1SK}, GSI2: {pk: GSI2PK, sk: GSI2SK}}}}}
paths: {}
components:
  schemas:
    Order:
      type: object
      required: [customerId, orderId, status]
      properties:
        customerId: {type: string}
        orderId: {type: string}
        status: {type: string}
        type: {type: string}
      x-apigen-entity:
        key: {pk: "CUSTOMER#{customerId}", sk: "ORDER#{orderId}"}
        indexes:
          GSI1: {pk: "STATUS#{status}", sk: "{orderId}"}
          GSI2: {pk: "OPEN_ORDERS", sk: "{orderId}"}
    Query:
      type: object
      required: [id]
      properties: {id: {type: string}}
      x-apigen-entity:
        key: {pk: "Q#{id}", sk: "Q"}
        indexes: {GSI2: {pk: "QUERY", sk: "{id}"}}
"#;
        let got = patterns(spec);
        let names: Vec<&str> = got.iter().map(|(m, _)| m.as_str()).collect();
        // `Q#{id}` / `Q` names one item (no query); `query` is the store's own.
        assert_eq!(
            names,
            [
                "orders_by_customer_id",
                "orders_by_status",
                "open_orders",
                "scan_orders",
                "get_orders",
                "queries_by_gsi2",
                "scan_queries",
                "get_queries"
            ]
        );
        assert_eq!(got[0].1, ["customerId"]);
    }
}
