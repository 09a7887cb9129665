//! Tables and entities: the DynamoDB side of the model, read from the
//! `x-apigen` and `x-apigen-entity` hints and checked against the schemas.

use std::collections::BTreeMap;

use heck::ToShoutySnakeCase;
use serde_json::{Map, Value};

use super::hints::{child, list, At, Reader};
use super::names;
use super::types::{StrFormat, StructDef, Ty, TypeId, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    S,
    N,
    B,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::N => "N",
            Self::B => "B",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyAttr {
    pub name: String,
    pub kind: KeyKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub pk: KeyAttr,
    pub sk: Option<KeyAttr>,
    pub projection: Projection,
}

/// A change a string field goes through before it is stored (`transforms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Trim,
    Lowercase,
    Uppercase,
    Nfc,
}

impl Transform {
    pub const NAMES: [&'static str; 4] = ["trim", "lowercase", "uppercase", "nfc"];

    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "trim" => Self::Trim,
            "lowercase" => Self::Lowercase,
            "uppercase" => Self::Uppercase,
            "nfc" => Self::Nfc,
            _ => return None,
        })
    }

    pub fn rust(self) -> &'static str {
        match self {
            Self::Trim => "Trim",
            Self::Lowercase => "Lowercase",
            Self::Uppercase => "Uppercase",
            Self::Nfc => "Nfc",
        }
    }
}

/// `transforms: {email: [trim, lowercase]}`: string fields, known steps.
fn read_transforms(
    r: &mut Reader,
    value: Option<&Value>,
    at: &str,
    schema: &StructDef,
    space: &TypeSpace,
) -> Vec<(String, Vec<Transform>)> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(fields) = value.as_object() else {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                "`transforms` must map fields to the steps their text goes through",
            )
            .help("write `transforms: {email: [trim, lowercase]}`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, steps) in fields {
        let field_at = child(at, name);
        let Some(f) = schema.fields.iter().find(|f| &f.name == name) else {
            r.diagnostics.push(
                Diagnostic::error(
                    &field_at,
                    format!("`{name}` is not a property of this schema"),
                )
                .help(format!("name a string property: {}", property_list(schema))),
            );
            continue;
        };
        if !matches!(
            space.resolve(&f.shape).ty,
            Ty::String(StrFormat::Plain | StrFormat::Email | StrFormat::Uri | StrFormat::Other(_))
        ) {
            r.diagnostics.push(
                Diagnostic::error(
                    &field_at,
                    format!("`{name}` is not a string, so it has no text to transform"),
                )
                .help("transform string properties only"),
            );
            continue;
        }
        let names: Vec<Value> = match steps {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        let mut parsed = Vec::new();
        for (i, step) in names.iter().enumerate() {
            match step.as_str().and_then(Transform::parse) {
                Some(t) => parsed.push(t),
                None => r.diagnostics.push(
                    Diagnostic::error(
                        if steps.is_array() {
                            child(&field_at, &i.to_string())
                        } else {
                            field_at.clone()
                        },
                        format!("{step} is not a transform"),
                    )
                    .help(format!("use {}", list(&Transform::NAMES))),
                ),
            }
        }
        if !parsed.is_empty() {
            out.push((name.clone(), parsed));
        }
    }
    out
}

/// How the replicas of a global table agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Multi-region eventual consistency: each region accepts writes, and the
    /// last writer wins across regions.
    Eventual,
    /// Multi-region strong consistency: a write is acknowledged once another
    /// region has it, so every region reads it and conditions hold globally.
    Strong,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Logical name from the spec (`Main`).
    pub name: String,
    /// CloudFormation resource name (`MainTable`).
    pub resource: String,
    /// Environment variable carrying the physical name (`MAIN_TABLE`).
    pub env: String,
    pub pk: KeyAttr,
    pub sk: Option<KeyAttr>,
    pub indexes: Vec<Index>,
    pub type_attribute: String,
    pub ttl_attribute: String,
    /// Whether any entity sets `expires`, so TTL is switched on.
    pub uses_ttl: bool,
    pub stream: Option<String>,
    /// Regions besides the deploying one that hold a replica.
    pub replicas: Vec<String>,
    /// How the replicas agree (`consistency`).
    pub consistency: Consistency,
    /// The witness region of a strongly consistent global table.
    pub witness: Option<String>,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    pub pointer: String,
}

impl Table {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.indexes.iter().position(|i| i.name == name)
    }
}

/// How a template variable is turned into key text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    String,
    /// Zero-padded in sort keys so that numbers sort as text.
    Integer,
    /// Normalised to UTC with millisecond precision so that times sort.
    DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var { field: String, kind: VarKind },
}

#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    pub parts: Vec<Part>,
}

impl Template {
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { field, .. } => Some(field.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// The literal text before the first variable.
    pub fn static_prefix(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var { .. } => break,
            }
        }
        out
    }

    pub fn is_constant(&self) -> bool {
        self.vars().next().is_none()
    }

    pub fn single_var(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Var { field, .. }] => Some(field),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyTemplates {
    pub pk: Template,
    pub sk: Option<Template>,
}

impl KeyTemplates {
    pub fn vars(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.pk.vars().collect();
        if let Some(sk) = &self.sk {
            out.extend(sk.vars());
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    Ulid,
    Uuid,
    Client,
}

#[derive(Debug, Clone)]
pub struct IdSpec {
    pub field: String,
    pub generate: Generate,
}

#[derive(Debug, Clone)]
pub struct EntityIndex {
    /// Index into the table's `indexes`.
    pub index: usize,
    pub key: KeyTemplates,
}

#[derive(Debug, Clone)]
pub struct Expires {
    pub field: String,
    /// The field holds epoch seconds rather than a date-time.
    pub epoch: bool,
}

/// `owner: {field, claim}`: the field holding the claim of the caller who
/// owns the item, a variable of the partition key.
#[derive(Debug, Clone)]
pub struct Owner {
    pub field: String,
    pub claim: String,
    pub pointer: String,
}

/// One query an entity's keys allow: the partition fixed by its variables,
/// the sort key optionally compared with a range.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The repository method, e.g. `orders_by_status`.
    pub method: String,
    /// Index into the table's `indexes`; `None` is the primary key.
    pub index: Option<usize>,
    /// The partition key's variables (entity fields), in template order.
    pub partition: Vec<String>,
    /// The sort key's first variable, which a range compares; `None` when the
    /// sort key holds no variable.
    pub range: Option<String>,
}

/// Entities that share a partition of their table's primary key (the same pk template), read
/// together by one Query, as a customer and their orders.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Indexes into `Api::entities`: first the one whose sort key is fixed (the partition's
    /// "head", such as the customer's profile), then the others in spec order.
    pub members: Vec<usize>,
    /// The Rust enum of the members (`CustomerCollection`) and the trait of its read
    /// (`CustomerCollectionRepository`), settled against every type name.
    pub type_name: String,
    pub repository: String,
    /// The store method (`customer_and_orders`), settled with the repositories' methods.
    pub method: String,
    /// The partition key's variables.
    pub partition: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Entity {
    /// The schema's name in the spec.
    pub schema: String,
    pub type_id: TypeId,
    /// Value of the table's type attribute (`ORDER`).
    pub type_value: String,
    /// Index into `Api::tables`.
    pub table: usize,
    pub id: Option<IdSpec>,
    pub key: KeyTemplates,
    pub indexes: Vec<EntityIndex>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub version: Option<String>,
    pub expires: Option<Expires>,
    pub unique: Vec<String>,
    /// Who owns an item: the caller whose claim is in this field.
    pub owner: Option<Owner>,
    /// What string fields go through before they are stored or used in a key.
    pub transforms: Vec<(String, Vec<Transform>)>,
    /// The WebSocket topic each change of an item goes to (`ROOM#{roomId}`).
    pub publish: Option<Template>,
    pub pointer: String,
    /// Rust names of the entity's key struct (`OrderKey`) and repository trait
    /// (`OrderRepository`), settled against every other type name.
    pub key_type: String,
    pub repository: String,
    /// The words of the repository's method names, one item and many
    /// (`get_category`, `query_categories`), settled against every other
    /// entity's.
    pub singular: String,
    pub plural: String,
    /// Rust names of the typed input of a create or put (`NewOrder`) and of
    /// an update (`OrderChanges`), settled against every other type name.
    pub new_type: String,
    pub changes_type: String,
    /// The trait that adds the entity's writes to a `store::Transaction` (`OrderTransaction`).
    pub transaction_trait: String,
    /// The schema `default` of each field that has one, stored when a
    /// create or put omits the field.
    pub defaults: Vec<(String, Value)>,
    /// The queries the entity's keys allow, one repository method each.
    pub patterns: Vec<Pattern>,
    /// The repository method that reads every item of the entity (a Scan).
    pub scan_method: String,
    /// The repository method that reads many items by key (BatchGetItem).
    pub batch_get_method: String,
}

impl Entity {
    /// Fields the server sets: clients never do.
    pub fn server_fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(id) = &self.id {
            if id.generate != Generate::Client {
                out.push(id.field.as_str());
            }
        }
        out.extend(self.created.as_deref());
        out.extend(self.updated.as_deref());
        out.extend(self.version.as_deref());
        // The owner comes from the caller's token.
        out.extend(self.owner.as_ref().map(|o| o.field.as_str()));
        out
    }

    pub fn index_for(&self, table_index: usize) -> Option<&EntityIndex> {
        self.indexes.iter().find(|i| i.index == table_index)
    }
}

const TABLE_KEYS: &[&str] = &[
    "pk",
    "sk",
    "keyType",
    "indexes",
    "typeAttribute",
    "ttlAttribute",
    "stream",
    "replicas",
    "consistency",
    "witness",
    "pointInTimeRecovery",
    "deletionProtection",
];
const ENTITY_KEYS: &[&str] = &[
    "table",
    "type",
    "id",
    "key",
    "indexes",
    "timestamps",
    "version",
    "expires",
    "unique",
    "owner",
    "transforms",
    "publish",
];
const STREAM_VIEWS: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

/// Reads `x-apigen.tables`.
pub fn read_tables(r: &mut Reader, tables: &Value, at: &str) -> Vec<Table> {
    let Some(map) = tables.as_object() else {
        r.diagnostics.push(
            Diagnostic::error(at, "`tables` must be a mapping from table name to table")
                .help("write `tables: {Main: {pk: PK, sk: SK}}`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in map {
        let t_at = child(at, name);
        if !is_identifier(name) {
            r.diagnostics.push(
                Diagnostic::error(
                    &t_at,
                    format!("table name `{name}` is not usable as a CloudFormation resource name"),
                )
                .help("use letters and digits only, starting with a letter, such as `Main`"),
            );
            continue;
        }
        let Some(t) = r.object(value, &t_at, &format!("table `{name}`"), TABLE_KEYS) else {
            continue;
        };
        let key_types = t.get("keyType").and_then(|k| {
            r.object(k, &child(&t_at, "keyType"), "`keyType`", &["pk", "sk"])
                .cloned()
        });
        let key_kind = |r: &mut Reader, which: &str| -> KeyKind {
            let Some(kt) = &key_types else {
                return KeyKind::S;
            };
            match r
                .choice(kt, which, &child(&t_at, "keyType"), &["S", "N", "B"])
                .map(|c| c.value)
            {
                Some(v) if v == "N" => KeyKind::N,
                Some(v) if v == "B" => KeyKind::B,
                _ => KeyKind::S,
            }
        };
        let pk = KeyAttr {
            name: r
                .string(t, "pk", &t_at)
                .map(|s| s.value)
                .unwrap_or_else(|| "PK".into()),
            kind: key_kind(r, "pk"),
        };
        let sk = r.string(t, "sk", &t_at).map(|s| KeyAttr {
            name: s.value,
            kind: key_kind(r, "sk"),
        });
        let mut indexes = Vec::new();
        if let Some(ix) = t.get("indexes") {
            let ix_at = child(&t_at, "indexes");
            if let Some(ix_map) = ix.as_object() {
                for (iname, ivalue) in ix_map {
                    let i_at = child(&ix_at, iname);
                    let Some(i) = r.object(
                        ivalue,
                        &i_at,
                        &format!("index `{iname}`"),
                        &["pk", "sk", "projection"],
                    ) else {
                        continue;
                    };
                    let Some(ipk) = r.string(i, "pk", &i_at) else {
                        r.diagnostics.push(
                            Diagnostic::error(&i_at, format!("index `{iname}` has no `pk`"))
                                .help(format!("write `{iname}: {{pk: {iname}PK, sk: {iname}SK}}`")),
                        );
                        continue;
                    };
                    let projection = match r
                        .choice(i, "projection", &i_at, &["ALL", "KEYS_ONLY"])
                        .map(|p| p.value)
                    {
                        Some(p) if p == "KEYS_ONLY" => Projection::KeysOnly,
                        _ => Projection::All,
                    };
                    indexes.push(Index {
                        name: iname.clone(),
                        pk: KeyAttr {
                            name: ipk.value,
                            kind: KeyKind::S,
                        },
                        sk: r.string(i, "sk", &i_at).map(|s| KeyAttr {
                            name: s.value,
                            kind: KeyKind::S,
                        }),
                        projection,
                    });
                }
            }
        }
        let stream = r.choice(t, "stream", &t_at, STREAM_VIEWS).map(|s| s.value);
        let replicas: Vec<String> = r
            .strings(t, "replicas", &t_at)
            .into_iter()
            .map(|s| s.value)
            .collect();
        out.push(Table {
            resource: format!("{}Table", names::type_name(name)),
            env: format!("{}_TABLE", names::const_name(name)),
            name: name.clone(),
            pk,
            sk,
            indexes,
            type_attribute: r
                .string(t, "typeAttribute", &t_at)
                .map(|s| s.value)
                .unwrap_or_else(|| "_type".into()),
            ttl_attribute: r
                .string(t, "ttlAttribute", &t_at)
                .map(|s| s.value)
                .unwrap_or_else(|| "ttl".into()),
            uses_ttl: false,
            stream,
            replicas,
            consistency: match r
                .choice(t, "consistency", &t_at, &["eventual", "strong"])
                .map(|c| c.value)
                .as_deref()
            {
                Some("strong") => Consistency::Strong,
                _ => Consistency::Eventual,
            },
            witness: r.string(t, "witness", &t_at).map(|w| w.value),
            point_in_time_recovery: r.bool(t, "pointInTimeRecovery", &t_at).unwrap_or(true),
            deletion_protection: r.bool(t, "deletionProtection", &t_at).unwrap_or(true),
            pointer: t_at,
        });
    }
    out
}

fn read_owner(
    r: &mut Reader,
    value: &Value,
    at: &str,
    entity: &str,
    schema: &StructDef,
    space: &TypeSpace,
    key: &KeyTemplates,
) -> Option<Owner> {
    let map = r.object(value, at, "`owner`", &["field", "claim"])?;
    let Some(field) = r.string(map, "field", at) else {
        r.diagnostics.push(
            Diagnostic::error(at, "`owner` needs the field that holds the owner")
                .help("write `owner: {field: ownerId, claim: sub}`"),
        );
        return None;
    };
    let claim = r
        .string(map, "claim", at)
        .map(|c| c.value)
        .unwrap_or_else(|| "sub".into());
    let Some(f) = schema.fields.iter().find(|f| f.name == field.value) else {
        r.diagnostics.push(
            Diagnostic::error(
                &field.pointer,
                format!("`{}` is not a property of `{entity}`", field.value),
            )
            .help(format!(
                "name a string property for the owner: {}",
                property_list(schema)
            )),
        );
        return None;
    };
    if !matches!(
        space.resolve(&f.shape).ty,
        Ty::String(StrFormat::Plain | StrFormat::Email | StrFormat::Uri | StrFormat::Other(_))
    ) {
        r.diagnostics.push(
            Diagnostic::error(
                &field.pointer,
                format!(
                    "owner field `{}` must be a plain string, as claims are",
                    field.value
                ),
            )
            .help(format!(
                "declare it as `{}: {{type: string, readOnly: true}}`",
                field.value
            )),
        );
        return None;
    }
    if !key.pk.vars().any(|v| v == field.value) {
        r.diagnostics.push(
            Diagnostic::error(&field.pointer, format!("owner field `{}` is not a variable of the partition key `{}`", field.value, key.pk.source))
                .help(format!("put it in the key, such as `key: {{pk: \"USER#{{{}}}\", sk: …}}`, so that every read and list is confined to the owner's partition", field.value)),
        );
        return None;
    }
    Some(Owner {
        field: field.value,
        claim,
        pointer: at.to_string(),
    })
}

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Everything an entity hint needs to be checked against.
pub struct EntityInput<'a> {
    pub schema: &'a str,
    pub type_id: TypeId,
    pub hint: &'a Value,
    pub at: String,
}

/// Reads every `x-apigen-entity` and checks it against its schema and table.
pub fn read_entities(
    r: &mut Reader,
    inputs: Vec<EntityInput>,
    tables: &mut [Table],
    space: &TypeSpace,
) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for input in inputs {
        let Some(entity) = read_entity(r, &input, tables, space) else {
            continue;
        };
        if let Some(other) = types.insert(entity.type_value.clone(), input.schema.to_string()) {
            r.diagnostics.push(
                Diagnostic::error(
                    child(&input.at, "type"),
                    format!(
                        "entities `{other}` and `{}` both have type `{}`",
                        input.schema, entity.type_value
                    ),
                )
                .help(format!(
                    "give one of them its own `type`, for example `type: {}`",
                    input.schema.to_shouty_snake_case()
                )),
            );
            continue;
        }
        if entity.expires.is_some() {
            tables[entity.table].uses_ttl = true;
        }
        out.push(entity);
    }
    out
}

fn read_entity(
    r: &mut Reader,
    input: &EntityInput,
    tables: &[Table],
    space: &TypeSpace,
) -> Option<Entity> {
    let at = &input.at;
    let e = r.object(input.hint, at, "`x-apigen-entity`", ENTITY_KEYS)?;
    let TypeKind::Struct(schema) = &space.get(input.type_id).kind else {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                format!(
                    "schema `{}` is not an object, so it cannot be stored",
                    input.schema
                ),
            )
            .help("put `x-apigen-entity` on an object schema with `type: object` and `properties`"),
        );
        return None;
    };
    let table = match r.string(e, "table", at) {
        Some(t) => match tables.iter().position(|x| x.name == t.value) {
            Some(i) => i,
            None => {
                let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                r.diagnostics.push(
                    Diagnostic::error(&t.pointer, format!("entity `{}` names table `{}`, which is not declared", input.schema, t.value))
                        .help(if names.is_empty() {
                            format!("declare it under `x-apigen.tables`: `tables: {{{}: {{pk: PK, sk: SK}}}}`", t.value)
                        } else {
                            format!("use one of the tables declared under `x-apigen.tables`: {}", list(&names))
                        }),
                );
                return None;
            }
        },
        None => {
            match tables.len() {
                1 => 0,
                0 => {
                    r.diagnostics.push(
                    Diagnostic::error(at, format!("entity `{}` needs a table, and none is declared", input.schema))
                        .help("declare one at the root: `x-apigen: {tables: {Main: {pk: PK, sk: SK}}}`"),
                );
                    return None;
                }
                _ => {
                    r.diagnostics.push(
                        Diagnostic::error(
                            at,
                            format!(
                                "entity `{}` does not say which table it lives in",
                                input.schema
                            ),
                        )
                        .help(format!(
                            "add `table:` with one of {}",
                            list(&tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>())
                        )),
                    );
                    return None;
                }
            }
        }
    };
    let t = &tables[table];
    let type_value = r
        .string(e, "type", at)
        .map(|s| s.value)
        .unwrap_or_else(|| names::const_name(input.schema));
    let field = |name: &str| schema.fields.iter().find(|f| f.name == name);
    let check_field = |r: &mut Reader, f: &At<String>, role: &str| -> bool {
        if field(&f.value).is_some() {
            true
        } else {
            r.diagnostics.push(
                Diagnostic::error(
                    &f.pointer,
                    format!("`{}` is not a property of `{}`", f.value, input.schema),
                )
                .help(format!(
                    "name a property for {role}: {}",
                    property_list(schema)
                )),
            );
            false
        }
    };
    // id
    let id = match e.get("id") {
        Some(v) => {
            let id_at = child(at, "id");
            r.object(v, &id_at, "`id`", &["field", "generate"]).and_then(|m| {
                let f = r.string(m, "field", &id_at).unwrap_or(At { value: "id".into(), pointer: id_at.clone() });
                let generate = r.choice(m, "generate", &id_at, &["ulid", "uuid", "client"]).map(|g| g.value);
                if !check_field(r, &f, "the id") {
                    return None;
                }
                let generate = match generate.as_deref() {
                    Some("uuid") => Generate::Uuid,
                    Some("client") => Generate::Client,
                    Some(_) => Generate::Ulid,
                    None => default_generate(field(&f.value).map(|x| &x.shape.ty)),
                };
                if generate != Generate::Client
                    && !matches!(field(&f.value).map(|x| &space.resolve(&x.shape).ty), Some(Ty::String(_)))
                {
                    r.diagnostics.push(
                        Diagnostic::error(&f.pointer, format!("id field `{}` is not a string, so apigen cannot generate it", f.value))
                            .help("make the property `type: string`, or write `generate: client` so that clients send the id"),
                    );
                }
                Some(IdSpec { field: f.value, generate })
            })
        }
        None => field("id").map(|f| IdSpec {
            field: "id".into(),
            generate: default_generate(Some(&f.shape.ty)),
        }),
    };
    let key = match e.get("key") {
        Some(k) => read_keys(r, k, &child(at, "key"), schema, space, input.schema, true)?,
        None => default_key(t, schema, &type_value, id.as_ref(), at, r)?,
    };
    if let Some(sk) = &key.sk {
        if t.sk.is_none() {
            r.diagnostics.push(
                Diagnostic::error(
                    child(&child(at, "key"), "sk"),
                    format!(
                        "table `{}` has no sort key, so `sk: {}` cannot be used",
                        t.name, sk.source
                    ),
                )
                .help(format!(
                    "remove `sk` from the key, or give table `{}` one: `sk: SK`",
                    t.name
                )),
            );
        }
    } else if t.sk.is_some() {
        r.diagnostics.push(
            Diagnostic::error(
                child(at, "key"),
                format!(
                    "table `{}` has a sort key `{}`, and this key does not set it",
                    t.name,
                    t.sk.as_ref().map(|s| s.name.as_str()).unwrap_or_default()
                ),
            )
            .help(format!(
                "add a sort key template, for example `sk: \"{type_value}\"`"
            )),
        );
    }
    let mut indexes = Vec::new();
    if let Some(ix) = e.get("indexes") {
        let ix_at = child(at, "indexes");
        if let Some(ix_map) = ix.as_object() {
            for (iname, ivalue) in ix_map {
                let i_at = child(&ix_at, iname);
                let Some(index) = t.index(iname) else {
                    let names: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
                    r.diagnostics.push(
                        Diagnostic::error(&i_at, format!("table `{}` has no index `{iname}`", t.name)).help(if names.is_empty() {
                            format!("declare it on the table: `indexes: {{{iname}: {{pk: {iname}PK, sk: {iname}SK}}}}`")
                        } else {
                            format!("use one of the table's indexes: {}", list(&names))
                        }),
                    );
                    continue;
                };
                let has_sk = t.indexes[index].sk.is_some();
                if let Some(key) = read_keys(r, ivalue, &i_at, schema, space, input.schema, false) {
                    if key.sk.is_some() && !has_sk {
                        r.diagnostics.push(
                            Diagnostic::error(child(&i_at, "sk"), format!("index `{iname}` has no sort key"))
                                .help(format!("remove `sk`, or declare one on the index: `{iname}: {{pk: …, sk: {iname}SK}}`")),
                        );
                    }
                    indexes.push(EntityIndex { index, key });
                }
            }
        } else {
            r.diagnostics.push(
                Diagnostic::error(
                    &ix_at,
                    "`indexes` must be a mapping from index name to key templates",
                )
                .help("write `indexes: {GSI1: {pk: \"STATUS#{status}\", sk: \"{createdAt}\"}}`"),
            );
        }
    }
    check_key_kinds(r, t, &key, &indexes, at);
    let mut created = None;
    let mut updated = None;
    if let Some(ts) = e.get("timestamps") {
        let ts_at = child(at, "timestamps");
        if let Some(m) = r.object(ts, &ts_at, "`timestamps`", &["created", "updated"]) {
            for (key, slot) in [("created", &mut created), ("updated", &mut updated)] {
                if let Some(f) = r.string(m, key, &ts_at) {
                    if check_field(r, &f, "a timestamp") {
                        check_date_time(r, &f, schema, space);
                        *slot = Some(f.value);
                    }
                }
            }
        }
    }
    let version = r
        .string(e, "version", at)
        .filter(|f| check_field(r, f, "the version"))
        .map(|f| {
            if !matches!(
                field(&f.value).map(|x| &space.resolve(&x.shape).ty),
                Some(Ty::Integer(_))
            ) {
                r.diagnostics.push(
                    Diagnostic::error(
                        &f.pointer,
                        format!("version field `{}` must be an integer", f.value),
                    )
                    .help(format!(
                        "declare it as `{}: {{type: integer, readOnly: true}}`",
                        f.value
                    )),
                );
            }
            f.value
        });
    let expires = r.string(e, "expires", at).filter(|f| check_field(r, f, "the expiry time")).and_then(|f| {
        match field(&f.value).map(|x| &space.resolve(&x.shape).ty) {
            Some(Ty::String(StrFormat::DateTime)) => Some(Expires { field: f.value, epoch: false }),
            Some(Ty::Integer(_)) => Some(Expires { field: f.value, epoch: true }),
            _ => {
                r.diagnostics.push(
                    Diagnostic::error(&f.pointer, format!("expiry field `{}` must be a date-time or epoch seconds", f.value))
                        .help("declare it as `{type: string, format: date-time}` or `{type: integer}`"),
                );
                None
            }
        }
    });
    let mut unique = Vec::new();
    for f in r.strings(e, "unique", at) {
        if !check_field(r, &f, "a unique value") {
            continue;
        }
        if field(&f.value).is_some_and(|x| is_scalar(space, &x.shape.ty)) {
            unique.push(f.value);
        } else {
            r.diagnostics.push(
                Diagnostic::error(
                    &f.pointer,
                    format!(
                        "unique field `{}` must be a string, integer or enum",
                        f.value
                    ),
                )
                .help("only scalar values can be guarded; name a scalar property"),
            );
        }
    }
    let transforms = read_transforms(
        r,
        e.get("transforms"),
        &child(at, "transforms"),
        schema,
        space,
    );
    // An owner that cannot be honoured leaves no entity: an unowned one would be open to all.
    let owner = match e.get("owner") {
        Some(o) => Some(read_owner(
            r,
            o,
            &child(at, "owner"),
            input.schema,
            schema,
            space,
            &key,
        )?),
        None => None,
    };
    let publish = r
        .string(e, "publish", at)
        .and_then(|t| parse_template(r, &t, schema, space, input.schema, false));
    Some(Entity {
        schema: input.schema.to_string(),
        owner,
        publish,
        type_id: input.type_id,
        type_value,
        table,
        id,
        key,
        indexes,
        created,
        updated,
        version,
        expires,
        unique,
        pointer: at.clone(),
        key_type: String::new(),
        repository: String::new(),
        singular: String::new(),
        plural: String::new(),
        transforms,
        new_type: String::new(),
        changes_type: String::new(),
        transaction_trait: String::new(),
        defaults: Vec::new(),
        patterns: Vec::new(),
        scan_method: String::new(),
        batch_get_method: String::new(),
    })
}

/// A number or binary key attribute holds one value, not text: its template
/// must be a single variable (an integer, for `N`).
fn check_key_kinds(
    r: &mut Reader,
    t: &Table,
    key: &KeyTemplates,
    indexes: &[EntityIndex],
    at: &str,
) {
    let mut pairs: Vec<(&KeyAttr, &Template, String)> =
        vec![(&t.pk, &key.pk, child(&child(at, "key"), "pk"))];
    if let (Some(attr), Some(sk)) = (&t.sk, &key.sk) {
        pairs.push((attr, sk, child(&child(at, "key"), "sk")));
    }
    for ix in indexes {
        let index = &t.indexes[ix.index];
        let ix_at = child(&child(at, "indexes"), &index.name);
        pairs.push((&index.pk, &ix.key.pk, child(&ix_at, "pk")));
        if let (Some(attr), Some(sk)) = (&index.sk, &ix.key.sk) {
            pairs.push((attr, sk, child(&ix_at, "sk")));
        }
    }
    for (attr, template, pointer) in pairs {
        let fits = match attr.kind {
            KeyKind::S => true,
            KeyKind::N => matches!(
                template.parts.as_slice(),
                [Part::Var {
                    kind: VarKind::Integer,
                    ..
                }]
            ),
            KeyKind::B => template.single_var().is_some(),
        };
        if !fits {
            r.diagnostics.push(
                Diagnostic::error(&pointer, format!("`{}` is a {} attribute, so `{}` cannot fill it", attr.name, if attr.kind == KeyKind::N { "number" } else { "binary" }, template.source))
                    .help(if attr.kind == KeyKind::N {
                        "use a template that is one integer property, such as `\"{seq}\"`, or make the attribute a string in `keyType`"
                    } else {
                        "use a template that is one property, or make the attribute a string in `keyType`"
                    }),
            );
        }
    }
}

fn default_generate(ty: Option<&Ty>) -> Generate {
    match ty {
        Some(Ty::String(StrFormat::Uuid)) => Generate::Uuid,
        Some(Ty::String(_)) => Generate::Ulid,
        _ => Generate::Client,
    }
}

fn check_date_time(r: &mut Reader, f: &At<String>, schema: &StructDef, space: &TypeSpace) {
    let ok = schema
        .fields
        .iter()
        .find(|x| x.name == f.value)
        .is_some_and(|x| space.resolve(&x.shape).ty == Ty::String(StrFormat::DateTime));
    if !ok {
        r.diagnostics.push(
            Diagnostic::error(
                &f.pointer,
                format!("timestamp field `{}` must be a date-time", f.value),
            )
            .help(format!(
                "declare it as `{}: {{type: string, format: date-time, readOnly: true}}`",
                f.value
            )),
        );
    }
}

fn property_list(schema: &StructDef) -> String {
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    list(&names)
}

fn is_scalar(space: &TypeSpace, ty: &Ty) -> bool {
    match ty {
        Ty::String(_) | Ty::Integer(_) => true,
        Ty::Ref(id) => match &space.get(*id).kind {
            TypeKind::Enum(_) => true,
            TypeKind::Alias(inner) => is_scalar(space, &inner.ty),
            _ => false,
        },
        _ => false,
    }
}

fn var_kind(space: &TypeSpace, ty: &Ty) -> VarKind {
    match ty {
        Ty::Integer(_) => VarKind::Integer,
        Ty::String(StrFormat::DateTime) => VarKind::DateTime,
        Ty::Ref(id) => match &space.get(*id).kind {
            TypeKind::Alias(inner) => var_kind(space, &inner.ty),
            TypeKind::Enum(e) if e.is_integer() => VarKind::Integer,
            _ => VarKind::String,
        },
        _ => VarKind::String,
    }
}

fn read_keys(
    r: &mut Reader,
    value: &Value,
    at: &str,
    schema: &StructDef,
    space: &TypeSpace,
    schema_name: &str,
    primary: bool,
) -> Option<KeyTemplates> {
    let m: &Map<String, Value> = r.object(value, at, "a key", &["pk", "sk"])?;
    let Some(pk) = r.string(m, "pk", at) else {
        r.diagnostics.push(
            Diagnostic::error(at, "a key needs a `pk` template")
                .help("write `{pk: \"TYPE#{id}\", sk: \"TYPE\"}`"),
        );
        return None;
    };
    let pk = parse_template(r, &pk, schema, space, schema_name, primary)?;
    let sk = match r.string(m, "sk", at) {
        Some(sk) => Some(parse_template(r, &sk, schema, space, schema_name, primary)?),
        None => None,
    };
    Some(KeyTemplates { pk, sk })
}

/// Parses `"ORDER#{orderId}"` and checks each variable against the schema.
fn parse_template(
    r: &mut Reader,
    t: &At<String>,
    schema: &StructDef,
    space: &TypeSpace,
    schema_name: &str,
    primary: bool,
) -> Option<Template> {
    let mut parts = Vec::new();
    let mut rest = t.value.as_str();
    let mut ok = true;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let Some(end) = rest.find('}') else {
                    r.diagnostics.push(
                        Diagnostic::error(
                            &t.pointer,
                            format!("`{}` has a `{{` without a closing `}}`", t.value),
                        )
                        .help("write variables as `{field}`, like path templates"),
                    );
                    return None;
                };
                let name = &rest[1..end];
                match schema.fields.iter().find(|f| f.name == name) {
                    Some(f) if is_scalar(space, &f.shape.ty) && (f.required || !primary) => {
                        parts.push(Part::Var {
                            field: name.to_string(),
                            kind: var_kind(space, &f.shape.ty),
                        });
                    }
                    Some(f) if !is_scalar(space, &f.shape.ty) => {
                        ok = false;
                        r.diagnostics.push(
                            Diagnostic::error(&t.pointer, format!("`{{{name}}}` in `{}` is not a scalar property of `{schema_name}`", t.value))
                                .help("key variables must be strings, integers, enums or date-times; use another property"),
                        );
                    }
                    Some(_) => {
                        ok = false;
                        r.diagnostics.push(
                            Diagnostic::error(&t.pointer, format!("`{{{name}}}` in `{}` is not a required property of `{schema_name}`", t.value))
                                .help(format!("add `{name}` to the schema's `required` list: every item must have its primary key")),
                        );
                    }
                    None => {
                        ok = false;
                        r.diagnostics.push(
                            Diagnostic::error(
                                &t.pointer,
                                format!(
                                    "`{{{name}}}` in `{}` is not a property of `{schema_name}`",
                                    t.value
                                ),
                            )
                            .help(format!(
                                "use one of its properties: {}",
                                property_list(schema)
                            )),
                        );
                    }
                }
                rest = &rest[end + 1..];
            }
            Some(i) => {
                parts.push(Part::Lit(rest[..i].to_string()));
                rest = &rest[i..];
            }
            None => {
                parts.push(Part::Lit(rest.to_string()));
                rest = "";
            }
        }
    }
    ok.then(|| Template {
        source: t.value.clone(),
        parts,
    })
}

fn default_key(
    t: &Table,
    schema: &StructDef,
    type_value: &str,
    id: Option<&IdSpec>,
    at: &str,
    r: &mut Reader,
) -> Option<KeyTemplates> {
    if let Some(f) = schema.fields.iter().find(|f| f.name == t.pk.name) {
        let pk = Template {
            source: format!("{{{}}}", f.name),
            parts: vec![Part::Var {
                field: f.name.clone(),
                kind: VarKind::String,
            }],
        };
        let sk =
            t.sk.as_ref()
                .and_then(|sk| schema.fields.iter().find(|f| f.name == sk.name))
                .map(|f| Template {
                    source: format!("{{{}}}", f.name),
                    parts: vec![Part::Var {
                        field: f.name.clone(),
                        kind: VarKind::String,
                    }],
                });
        let sk = sk.or_else(|| t.sk.as_ref().map(|_| literal(type_value)));
        return Some(KeyTemplates { pk, sk });
    }
    let Some(id) = id else {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                "this entity has no `key` and no id field to build a default key from",
            )
            .help("add `key: {pk: \"TYPE#{field}\", sk: \"TYPE\"}`, or an `id` property"),
        );
        return None;
    };
    let pk = Template {
        source: format!("{type_value}#{{{}}}", id.field),
        parts: vec![
            Part::Lit(format!("{type_value}#")),
            Part::Var {
                field: id.field.clone(),
                kind: VarKind::String,
            },
        ],
    };
    Some(KeyTemplates {
        pk,
        sk: t.sk.as_ref().map(|_| literal(type_value)),
    })
}

fn literal(s: &str) -> Template {
    Template {
        source: s.to_string(),
        parts: vec![Part::Lit(s.to_string())],
    }
}
