//! Findings about a valid spec that change what clients see without being
//! wrong: said once, so that nobody is surprised by them later.

use super::actions::Verb;
use super::hints::child;
use super::operations::{Operation, ParamIn, Status};
use super::storage::{Entity, Table};
use super::types::{StrFormat, Ty, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;

/// Operations named in a warning before "and N more".
const NAMED: usize = 3;

pub fn advise(
    entities: &[Entity],
    tables: &[Table],
    types: &TypeSpace,
    operations: &[Operation],
) -> Vec<Diagnostic> {
    let mut out = sparse_indexes(entities, tables, types);
    out.extend(undeclared_statuses(entities, types, operations));
    out
}

/// One note per index whose key uses a field an item may lack: DynamoDB
/// leaves such items out of the index, so queries on it never return them.
fn sparse_indexes(entities: &[Entity], tables: &[Table], types: &TypeSpace) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for e in entities {
        let TypeKind::Struct(schema) = &types.get(e.type_id).kind else {
            continue;
        };
        let server = e.server_fields();
        for ix in &e.indexes {
            let mut optional: Vec<&str> = Vec::new();
            for var in ix
                .key
                .pk
                .vars()
                .chain(ix.key.sk.iter().flat_map(|t| t.vars()))
            {
                let always = server.contains(&var)
                    || schema.fields.iter().any(|f| f.name == var && f.required);
                if !always && !optional.contains(&var) {
                    optional.push(var);
                }
            }
            if optional.is_empty() {
                continue;
            }
            let name = &tables[e.table].indexes[ix.index].name;
            let fields: Vec<String> = optional.iter().map(|f| format!("`{f}`")).collect();
            out.push(
                Diagnostic::note(
                    child(&child(&e.pointer, "indexes"), name),
                    format!(
                        "index {name} of {} is sparse: items without {} are not in it",
                        e.schema,
                        or_list(&fields)
                    ),
                )
                .help(format!(
                    "queries on {name} never return those items; make {} required to index every item",
                    and_list(&fields)
                )),
            );
        }
    }
    out
}

/// One warning for every operation whose service answers an error status
/// that its responses do not declare, such as the 400 of validation.
fn undeclared_statuses(
    entities: &[Entity],
    types: &TypeSpace,
    operations: &[Operation],
) -> Vec<Diagnostic> {
    let mut found: Vec<(&Operation, Vec<u16>)> = Vec::new();
    for op in operations {
        let undeclared: Vec<u16> = answers(entities, types, op)
            .into_iter()
            .filter(|code| !declares(op, *code))
            .collect();
        if !undeclared.is_empty() {
            found.push((op, undeclared));
        }
    }
    let Some((first, _)) = found.first() else {
        return Vec::new();
    };
    let mut named: Vec<String> = found
        .iter()
        .take(NAMED)
        .map(|(op, codes)| {
            let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
            format!("{} ({})", op.id, codes.join(", "))
        })
        .collect();
    if found.len() > NAMED {
        named.push(format!("{} more", found.len() - NAMED));
    }
    let n = found.len();
    vec![Diagnostic::warning(
        child(&first.pointer, "responses"),
        format!(
            "{n} operation{} can answer error statuses {} responses do not declare: {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "its" } else { "their" },
            and_list(&named)
        ),
    )
    .help(
        "declare them (a `4XX` or `default` response covers all) with `application/problem+json`, so that clients and API tests expect them; apigen never rewrites your spec",
    )]
}

/// The error statuses the generated service may answer for `op`, besides
/// 500 and the router's own 404 and 405 for paths and methods the spec lacks.
fn answers(entities: &[Entity], types: &TypeSpace, op: &Operation) -> Vec<u16> {
    let mut codes = Vec::new();
    if op.body.is_some() || op.params.iter().any(|p| refusable(types, p)) {
        codes.push(400);
    }
    if let Some(action) = &op.action {
        let entity = &entities[action.entity];
        let guarded = entity.version.is_some() && action.if_match.is_some();
        match action.verb {
            Verb::Query | Verb::List if !codes.contains(&400) => codes.push(400),
            Verb::Get | Verb::Update | Verb::Delete => codes.push(404),
            _ => {}
        }
        // A write that reads first retries a lost race, then gives up with 409.
        let contended = entity.version.is_some() || !entity.unique.is_empty();
        let conflicts = match action.verb {
            Verb::Create => true,
            Verb::Update | Verb::Put | Verb::Delete => contended,
            _ => false,
        };
        if conflicts {
            codes.push(409);
        }
        if guarded && matches!(action.verb, Verb::Put | Verb::Update | Verb::Delete) {
            codes.push(412);
        }
    }
    if op.body.is_some() {
        codes.extend([413, 415]);
    }
    codes
}

/// Whether validation can refuse a value of `p`: it is required somewhere
/// a client can leave it out, or its schema allows less than any text.
fn refusable(types: &TypeSpace, p: &super::operations::Param) -> bool {
    if p.required && p.location != ParamIn::Path {
        return true;
    }
    let shape = types.resolve(&p.shape);
    !(matches!(
        shape.ty,
        Ty::String(StrFormat::Plain) | Ty::String(StrFormat::Other(_)) | Ty::Any
    ) && shape.rules.is_empty())
}

fn declares(op: &Operation, code: u16) -> bool {
    op.responses.iter().any(|r| match r.status {
        Status::Code(c) => c == code,
        Status::Range(r) => r == code / 100,
        Status::Default => true,
    })
}

fn and_list(items: &[String]) -> String {
    join(items, "and")
}

fn or_list(items: &[String]) -> String {
    join(items, "or")
}

fn join(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}
