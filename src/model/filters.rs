//! Declared filters of `list` and `query` actions: each query parameter named under `filter`
//! tests one entity field, and DynamoDB applies them all as one FilterExpression after it reads
//! a page. Read here from the hint, then checked against the operation and the entity.

use serde_json::Value;

use super::actions::{Filter, FilterOp};
use super::hints::{child, list, At, Reader};
use super::operations::{Operation, ParamIn};
use super::types::{Field, Shape, StrFormat, Ty, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;

/// DynamoDB's `IN` takes at most 100 values.
const MAX_IN: usize = 100;

/// A filter as written: `minTotal: {field: total, op: gte}`.
pub struct Declared {
    param: At<String>,
    field: At<String>,
    op: FilterOp,
}

/// Reads `filter: {param: {field, op}}`; `op` defaults to `eq`.
pub fn read(r: &mut Reader, value: Option<&Value>, at: &str) -> Vec<Declared> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(params) = value.as_object().filter(|m| !m.is_empty()) else {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                "`filter` must map query parameters to the fields they test",
            )
            .help("write `filter: {minTotal: {field: total, op: gte}}`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (param, test) in params {
        let test_at = child(at, param);
        let Some(map) = r.object(test, &test_at, "a filter", &["field", "op"]) else {
            continue;
        };
        let Some(field) = r.string(map, "field", &test_at) else {
            r.diagnostics.push(
                Diagnostic::error(&test_at, format!("filter `{param}` names no field"))
                    .help(format!("write `{param}: {{field: total, op: gte}}`")),
            );
            continue;
        };
        let op = match r.choice(map, "op", &test_at, &FilterOp::NAMES) {
            Some(op) => FilterOp::parse(&op.value),
            None if map.contains_key("op") => None,
            None => Some(FilterOp::Eq),
        };
        let Some(op) = op else { continue };
        out.push(Declared {
            param: At {
                value: param.clone(),
                pointer: test_at,
            },
            field,
            op,
        });
    }
    out
}

/// The names of the parameters the filters read, which therefore bind no key variable.
pub fn params(declared: &[Declared]) -> impl Iterator<Item = &str> {
    declared.iter().map(|d| d.param.value.as_str())
}

/// What a field or parameter holds, as DynamoDB compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Text,
    /// Text whose stored form does not sort as time does (fractional seconds vary).
    DateTime,
    Number,
    Bool,
    List(Box<Kind>),
    /// Objects, maps and unions: nothing a filter compares.
    Other,
}

impl Kind {
    fn of(space: &TypeSpace, shape: &Shape) -> Kind {
        match &space.resolve(shape).ty {
            Ty::String(StrFormat::DateTime) => Kind::DateTime,
            Ty::String(StrFormat::Binary | StrFormat::Byte) => Kind::Other,
            Ty::String(_) => Kind::Text,
            Ty::Integer(_) | Ty::Number(_) => Kind::Number,
            Ty::Bool => Kind::Bool,
            Ty::Array(items) => Kind::List(Box::new(Kind::of(space, items))),
            Ty::Ref(id) => match &space.get(*id).kind {
                TypeKind::Enum(e) if e.is_integer() => Kind::Number,
                TypeKind::Enum(e) if e.values.iter().all(|v| v.value.is_string()) => Kind::Text,
                _ => Kind::Other,
            },
            Ty::Any | Ty::Map(_) => Kind::Other,
        }
    }

    /// Whether a value of this kind equals one of `other` when they look alike.
    fn compares_with(&self, other: &Kind) -> bool {
        let text = |k: &Kind| matches!(k, Kind::Text | Kind::DateTime);
        self == other || (text(self) && text(other))
    }

    fn describe(&self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::DateTime => "a date-time".into(),
            Kind::Number => "a number".into(),
            Kind::Bool => "a boolean".into(),
            Kind::List(item) => format!("a list of {}", item.describe()),
            Kind::Other => "an object".into(),
        }
    }
}

/// What the filters need to know of the read they belong to.
pub struct Target<'a> {
    pub space: &'a TypeSpace,
    pub entity: &'a str,
    pub fields: &'a [Field],
    /// The key attribute names of the table or index read: DynamoDB refuses filters on them.
    pub key_fields: &'a [&'a str],
    /// The index read holds only keys.
    pub keys_only: Option<&'a str>,
    /// Parameters the action reads otherwise (range, limit, cursor, bindings).
    pub taken: &'a [usize],
}

/// Binds each declared filter to its query parameter and entity field, checking that the
/// comparison can ever be true.
pub fn bind(
    declared: &[Declared],
    op: &Operation,
    target: &Target,
) -> Result<Vec<Filter>, Box<Diagnostic>> {
    let err = |at: &str, message: String, help: String| {
        Box::new(Diagnostic::error(at, message).help(help))
    };
    if let (Some(index), Some(first)) = (target.keys_only, declared.first()) {
        return Err(err(
            &first.param.pointer,
            format!("index `{index}` holds only keys, so there is no field for a filter to test"),
            "project the index's attributes (`projection: ALL`), or remove `filter`".into(),
        ));
    }
    let mut out = Vec::with_capacity(declared.len());
    for d in declared {
        let name = &d.param.value;
        let Some(p) = op
            .params
            .iter()
            .position(|p| p.name == *name && p.location == ParamIn::Query)
        else {
            let elsewhere = op.params.iter().find(|p| p.name == *name);
            return Err(err(
                &d.param.pointer,
                match elsewhere {
                    Some(p) => format!("filter `{name}` names a {} parameter, and filters read query parameters", p.location.as_str()),
                    None => format!("filter `{name}` names query parameter `{name}`, which this operation does not have"),
                },
                format!("declare `- {{name: {name}, in: query, schema: {{type: string}}}}`"),
            ));
        };
        if target.taken.contains(&p) {
            return Err(err(
                &d.param.pointer,
                format!("query parameter `{name}` already has a job in this action (a key, range or paging parameter)"),
                "give the filter a parameter of its own".into(),
            ));
        }
        let field = &d.field;
        let Some(f) = target.fields.iter().find(|f| f.name == field.value) else {
            let names: Vec<&str> = target.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(err(
                &field.pointer,
                format!(
                    "filter `{name}` tests field `{}`, which `{}` does not have",
                    field.value, target.entity
                ),
                format!("name one of its fields: {}", list(&names)),
            ));
        };
        if target.key_fields.contains(&f.name.as_str()) {
            return Err(err(
                &field.pointer,
                format!("`{}` is part of the key this action reads, and DynamoDB does not filter on key attributes", f.name),
                "compare it with `range`, or bind it as a key variable".into(),
            ));
        }
        let param = &op.params[p];
        let field_kind = Kind::of(target.space, &f.shape);
        let param_kind = Kind::of(target.space, &param.shape);
        let misfit = |why: String| {
            err(
                &d.param.pointer,
                format!(
                    "filter `{name}` ({}) cannot test `{}`: {why}",
                    d.op.as_str(),
                    f.name
                ),
                help(d.op, &field_kind),
            )
        };
        match d.op {
            _ if field_kind == Kind::Other => {
                return Err(misfit(format!(
                    "`{}` holds {}",
                    f.name,
                    field_kind.describe()
                )))
            }
            op if field_kind == Kind::DateTime && op != FilterOp::BeginsWith => {
                return Err(misfit(format!(
                    "`{}` is a date-time, whose stored text does not compare as instants do",
                    f.name
                )))
            }
            FilterOp::In => {
                let Kind::List(item) = &param_kind else {
                    return Err(misfit(format!(
                        "`in` takes an array parameter, and `{name}` is {}",
                        param_kind.describe()
                    )));
                };
                if !item.compares_with(&field_kind) {
                    return Err(misfit(format!(
                        "`{name}` holds {}, and `{}` {}",
                        param_kind.describe(),
                        f.name,
                        field_kind.describe()
                    )));
                }
                if param.shape.rules.max_items.is_none_or(|max| max > MAX_IN) {
                    return Err(err(
                        &param.pointer,
                        format!("`in` compares with at most {MAX_IN} values, and `{name}` may hold more"),
                        format!("add `maxItems: {MAX_IN}` (or fewer) to the schema of `{name}`"),
                    ));
                }
            }
            FilterOp::Contains => {
                let fits = match &field_kind {
                    Kind::List(item) => item.compares_with(&param_kind),
                    Kind::Text => param_kind == Kind::Text,
                    _ => false,
                };
                if !fits {
                    return Err(misfit(format!(
                        "`{}` is {}, and `{name}` {}",
                        f.name,
                        field_kind.describe(),
                        param_kind.describe()
                    )));
                }
            }
            FilterOp::BeginsWith => {
                if !matches!(field_kind, Kind::Text | Kind::DateTime) || param_kind != Kind::Text {
                    return Err(misfit(format!(
                        "`beginsWith` compares text, and `{}` is {}",
                        f.name,
                        field_kind.describe()
                    )));
                }
            }
            op if op.orders() => {
                if !matches!(field_kind, Kind::Text | Kind::Number) {
                    return Err(misfit(format!(
                        "`{}` is {}, which has no order a filter can compare",
                        f.name,
                        field_kind.describe()
                    )));
                }
                if param_kind != field_kind {
                    return Err(misfit(format!(
                        "`{name}` is {}, and `{}` {}",
                        param_kind.describe(),
                        f.name,
                        field_kind.describe()
                    )));
                }
            }
            _ => {
                if !param_kind.compares_with(&field_kind) {
                    return Err(misfit(format!(
                        "`{name}` is {}, and `{}` {}",
                        param_kind.describe(),
                        f.name,
                        field_kind.describe()
                    )));
                }
            }
        }
        out.push(Filter {
            param: p,
            field: f.name.clone(),
            op: d.op,
        });
    }
    Ok(out)
}

fn help(op: FilterOp, field: &Kind) -> String {
    match (op, field) {
        (FilterOp::BeginsWith, _) => "give the parameter the schema of the field it tests".into(),
        (_, Kind::DateTime) => {
            "date-times are stored with varying fractional seconds, so their text neither sorts nor matches as instants do: put the field in a sort key and compare it with `range`, or match a day with `beginsWith`".into()
        }
        (_, Kind::Other) => "filter on a text, number or boolean field, or on a list of them".into(),
        (FilterOp::In, _) => "give the parameter `type: array` with items of the field's type and `maxItems: 100`".into(),
        _ => "give the parameter the schema of the field it tests".into(),
    }
}
