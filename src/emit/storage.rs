//! `src/generated/entities.rs` (table and entity definitions) and
//! `src/generated/actions.rs` (the default body of every operation with a
//! storage action).

use std::cell::Cell;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::operations::{request_name, response_name, variant_has_fields};
use super::rust::{bare_ty, docs, generated, ident, inner_docs, ty, use_generated, use_runtime};
use crate::model::actions::{BoundAction, RangeOp, Verb};
use crate::model::names::{const_name, Scope};
use crate::model::storage::{Generate, KeyKind, Part, Pattern, Template, VarKind};
use crate::model::types::{Additional, Field, IntFormat, StrFormat, StructDef, Ty};
use crate::model::{Api, Entity, Operation, Table, TypeKind};

pub fn table_static(t: &Table) -> Ident {
    format_ident!("{}_TABLE", const_name(&t.name))
}

pub fn entity_static(e: &Entity) -> Ident {
    format_ident!("{}_ENTITY", const_name(&e.schema))
}

/// The models module, as the generated storage files name it.
fn models() -> TokenStream {
    quote! { models }
}

/// A model's type by its path, `models::Order`.
fn model(name: &str) -> TokenStream {
    let name = ident(name);
    quote! { models::#name }
}

fn kind(k: KeyKind) -> TokenStream {
    match k {
        KeyKind::S => quote! { store::KeyKind::S },
        KeyKind::N => quote! { store::KeyKind::N },
        KeyKind::B => quote! { store::KeyKind::B },
    }
}

pub fn template(t: &Template) -> TokenStream {
    let parts = t.parts.iter().map(|p| match p {
        Part::Lit(s) => quote! { store::Part::Lit(#s) },
        Part::Var {
            field,
            kind: VarKind::String,
        } => quote! { store::Part::Str(#field) },
        Part::Var {
            field,
            kind: VarKind::Integer,
        } => quote! { store::Part::Int(#field) },
        Part::Var {
            field,
            kind: VarKind::DateTime,
        } => quote! { store::Part::DateTime(#field) },
    });
    quote! { store::Template(&[#(#parts),*]) }
}

fn key_def(pk: &Template, sk: Option<&Template>) -> TokenStream {
    let sk = some(sk.map(template));
    let pk = template(pk);
    quote! { store::KeyDef { pk: #pk, sk: #sk } }
}

/// `Some(value)` or `None`.
fn some<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote! { Some(#value) },
        None => quote! { None },
    }
}

fn key_attr(a: &crate::model::storage::KeyAttr) -> TokenStream {
    let name = &a.name;
    let kind = kind(a.kind);
    quote! { store::KeyAttr { name: #name, kind: #kind } }
}

pub fn emit_entities(api: &Api, hooks: bool) -> TokenStream {
    let mut out = inner_docs(
        "Where each entity is stored (tables, key templates, the fields the server manages), and a \
         typed repository per entity.",
    );
    out.extend(use_generated("models"));
    if !api.entities.is_empty() {
        out.extend(use_generated("schemas"));
    }
    out.extend(use_runtime("store"));
    let schema_names = super::schemas::SchemaNames::new(api);
    for t in &api.tables {
        let sk = some(t.sk.as_ref().map(key_attr));
        let indexes = t.indexes.iter().map(|i| {
            let name = &i.name;
            let pk = key_attr(&i.pk);
            let isk = some(i.sk.as_ref().map(key_attr));
            let keys_only = i.projection == crate::model::storage::Projection::KeysOnly;
            quote! { store::IndexDef { name: #name, pk: #pk, sk: #isk, keys_only: #keys_only } }
        });
        let doc = format!(
            " Table `{}` (`{}` in template.yaml; its name comes from `{}`).",
            t.name, t.resource, t.env
        );
        let name = table_static(t);
        let (table, env, type_attribute, ttl_attribute) =
            (&t.name, &t.env, &t.type_attribute, &t.ttl_attribute);
        let pk = key_attr(&t.pk);
        out.extend(quote! {
            #[doc = #doc]
            pub static #name: store::TableDef = store::TableDef {
                name: #table,
                env: #env,
                pk: #pk,
                sk: #sk,
                indexes: &[#(#indexes),*],
                type_attribute: #type_attribute,
                ttl_attribute: #ttl_attribute
            };
        });
    }
    let all = api.tables.iter().map(table_static);
    // The WebSocket API keeps its connections in a table of its own.
    let connections = api
        .websocket
        .is_some()
        .then(|| quote! { &::apigen_runtime::websocket::CONNECTIONS });
    out.extend(quote! {
        /// Every table the API uses.
        pub static TABLES: &[&store::TableDef] = &[#(&#all,)* #connections];
    });
    for e in &api.entities {
        let t = &api.tables[e.table];
        let table = table_static(t);
        let type_name = &api.types.get(e.type_id).name;
        let indexes = e.indexes.iter().map(|ix| {
            let index = Literal::usize_unsuffixed(ix.index);
            let key = key_def(&ix.key.pk, ix.key.sk.as_ref());
            quote! { store::EntityIndexDef { index: &#table.indexes[#index], key: #key } }
        });
        let id = some(e.id.as_ref().map(|id| {
            let field = &id.field;
            let generate = format_ident!(
                "{}",
                match id.generate {
                    Generate::Ulid => "Ulid",
                    Generate::Uuid => "Uuid",
                    Generate::Client => "Client",
                }
            );
            quote! { store::IdDef { field: #field, generate: store::Generate::#generate } }
        }));
        let expires = some(e.expires.as_ref().map(|x| {
            let field = &x.field;
            let epoch = x.epoch;
            quote! { store::ExpiresDef { field: #field, epoch: #epoch } }
        }));
        let TypeKind::Struct(s) = &api.types.get(e.type_id).kind else {
            continue;
        };
        let read_only = s.fields.iter().filter(|f| f.read_only).map(|f| &f.name);
        let unique = &e.unique;
        let doc = format!(" How [`models::{type_name}`] is stored.");
        let name = entity_static(e);
        let (schema, type_value) = (&e.schema, &e.type_value);
        let key = key_def(&e.key.pk, e.key.sk.as_ref());
        let created = some(e.created.as_ref());
        let updated = some(e.updated.as_ref());
        let version = some(e.version.as_ref());
        let model = model(type_name);
        let (before, after) = hook_methods(e);
        // A crate without a `hooks` module (a build script's, until it adds one) gets the no-op
        // defaults of `store::Entity`.
        let forward = hooks.then(|| {
            quote! {
                fn before_write(fields: &mut serde_json::Map<String, serde_json::Value>) -> Result<(), store::StoreError> {
                    <crate::hooks::Hooks as Hooks>::#before(fields)
                }
                fn after_read(&mut self) {
                    <crate::hooks::Hooks as Hooks>::#after(self)
                }
            }
        });
        let defaults = e.defaults.iter().map(|(field, value)| {
            let json = value.to_string();
            quote! { store::FieldDefault { field: #field, json: #json } }
        });
        let transforms = e.transforms.iter().map(|(field, steps)| {
            let steps = steps.iter().map(|t| format_ident!("{}", t.rust()));
            quote! { store::FieldTransform { field: #field, steps: &[#(store::Transform::#steps),*] } }
        });
        out.extend(quote! {
            #[doc = #doc]
            pub static #name: store::EntityDef = store::EntityDef {
                name: #schema,
                type_value: #type_value,
                table: &#table,
                key: #key,
                indexes: &[#(#indexes),*],
                id: #id,
                created: #created,
                updated: #updated,
                version: #version,
                expires: #expires,
                unique: &[#(#unique),*],
                read_only: &[#(#read_only),*],
                defaults: &[#(#defaults),*],
                transforms: &[#(#transforms),*]
            };

            impl store::Entity for #model {
                const DEF: &'static store::EntityDef = &#name;
                #forward
            }
        });
        let schema = ident(
            schema_names
                .of(e.type_id)
                .expect("entities have a schema static"),
        );
        out.extend(emit_repository(api, e, &schema));
    }
    for c in &api.collections {
        out.extend(emit_collection(api, c));
    }
    out.extend(emit_hooks(api));
    out
}

/// The names of an entity's hooks: `before_write_order`, `after_read_order`.
fn hook_methods(e: &Entity) -> (Ident, Ident) {
    (
        format_ident!("before_write_{}", e.singular.trim_end_matches('_')),
        format_ident!("after_read_{}", e.singular.trim_end_matches('_')),
    )
}

/// The trait of the user's hooks (`src/hooks.rs`): two no-op methods per entity, so that a new
/// entity in the spec leaves the user's impl compiling.
fn emit_hooks(api: &Api) -> TokenStream {
    let methods = api.entities.iter().map(|e| {
        let type_name = &api.types.get(e.type_id).name;
        let model = model(type_name);
        let (before, after) = hook_methods(e);
        let item = ident(&e.singular);
        let before_doc = format!(
            " Runs before a [`models::{type_name}`] is written, with the fields to write: the whole item for a create, a put, a batch put or a transaction's create (defaults, transforms, id, timestamps and version applied), the changed fields for an update. An error refuses the write; nothing is written. Deletes, `Store::add` and `Store::append` run no hook."
        );
        let after_doc = format!(" Runs on every [`models::{type_name}`] the store answers.");
        quote! {
            #[doc = #before_doc]
            fn #before(fields: &mut serde_json::Map<String, serde_json::Value>) -> Result<(), store::StoreError> {
                let _ = fields;
                Ok(())
            }
            #[doc = #after_doc]
            fn #after(#item: &mut #model) {
                let _ = #item;
            }
        }
    });
    quote! {
        /// Hooks on stored entities, implemented by `Hooks` in `src/hooks.rs`: every method is a no-op unless it is overridden there.
        pub trait Hooks {
            #(#methods)*
        }
    }
}

/// A partition variable as a method argument: a name clear of the method's others, and the
/// field's type borrowed (`&str` for a string).
fn partition_arg(api: &Api, f: &Field, names: &mut Scope) -> (Ident, TokenStream) {
    let arg = ident(&names.claim(f.ident.clone()));
    let bare = bare_ty(&api.types, &f.shape, Some(&models()));
    let ty = if bare.to_string() == "String" {
        quote! { &str }
    } else {
        quote! { &#bare }
    };
    (arg, ty)
}

/// An enum of the entities that share a partition, and the one Query that reads them.
fn emit_collection(api: &Api, c: &crate::model::storage::Collection) -> TokenStream {
    let members: Vec<&Entity> = c.members.iter().map(|i| &api.entities[*i]).collect();
    let head = members[0];
    let type_names: Vec<&str> = members
        .iter()
        .map(|e| api.types.get(e.type_id).name.as_str())
        .collect();
    let variants = type_names.iter().map(|name| {
        let variant = ident(name);
        let model = model(name);
        let doc = format!(" A [`models::{name}`].");
        quote! { #[doc = #doc] #variant(#model) }
    });
    let statics = members.iter().map(|e| entity_static(e));
    let arms = type_names.iter().enumerate().map(|(i, name)| {
        let variant = ident(name);
        let i = Literal::usize_unsuffixed(i);
        let model = model(name);
        quote! {
            #i => serde_json::from_value(fields)
                .map(|mut item: #model| {
                    store::Entity::after_read(&mut item);
                    Self::#variant(item)
                })
                .map_err(read),
        }
    });
    let enum_name = ident(&c.type_name);
    let repo = ident(&c.repository);
    let method = ident(&c.method);
    let TypeKind::Struct(s) = &api.types.get(head.type_id).kind else {
        return TokenStream::new();
    };
    let mut args = Vec::new();
    let mut binds = Vec::new();
    let mut arg_names = Scope::default();
    arg_names.claim("page".to_string());
    for var in &c.partition {
        let Some(f) = s.fields.iter().find(|f| &f.name == var) else {
            continue;
        };
        let (arg, ty) = partition_arg(api, f, &mut arg_names);
        args.push(quote! { #arg: #ty });
        binds.push(quote! {
            values.insert(#var.into(), serde_json::to_value(#arg).map_err(|e| store::StoreError::Invalid(e.to_string()))?);
        });
    }
    let mutable = (!binds.is_empty()).then(|| quote! { mut });
    let names = type_names
        .iter()
        .map(|n| format!("[`models::{n}`]"))
        .collect::<Vec<_>>();
    let enum_doc = format!(
        " The items of one `{}` partition, read together: {}.",
        head.key.pk.source,
        names.join(", ")
    );
    let repo_doc = format!(
        " Reads of the `{}` partition, where {} live together.",
        head.key.pk.source,
        names.join(", ")
    );
    let method_doc = format!(
        " One page of the partition's {}, in sort key order. One Query.",
        names.join(", ")
    );
    let ret = quote! { impl std::future::Future<Output = Result<store::Page<#enum_name>, store::StoreError>> + Send };
    quote! {
        #[doc = #enum_doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #enum_name {
            #(#variants),*
        }

        impl store::Collection for #enum_name {
            const MEMBERS: &'static [&'static store::EntityDef] = &[#(&#statics),*];

            fn from_fields(member: usize, fields: serde_json::Value) -> Result<Self, store::StoreError> {
                let read = |e: serde_json::Error| store::StoreError::backend(format!("a stored item does not match its type: {e}"));
                match member {
                    #(#arms)*
                    _ => Err(store::StoreError::backend("no such member")),
                }
            }
        }

        #[doc = #repo_doc]
        pub trait #repo {
            #[doc = #method_doc]
            fn #method(&self, #(#args,)* page: store::PageRequest) -> #ret;
        }

        impl #repo for store::Store {
            async fn #method(&self, #(#args,)* page: store::PageRequest) -> Result<store::Page<#enum_name>, store::StoreError> {
                let #mutable values = serde_json::Map::new();
                #(#binds)*
                self.query_collection(values, page).await
            }
        }
    }
}

/// The names of an entity's repository methods.
struct Methods {
    create: Ident,
    get: Ident,
    put: Ident,
    update: Ident,
    delete: Ident,
    update_if: Ident,
    delete_if: Ident,
}

impl Methods {
    fn of(e: &Entity) -> Self {
        let one = &e.singular;
        Self {
            create: format_ident!("create_{one}"),
            get: format_ident!("get_{one}"),
            put: format_ident!("put_{one}"),
            update: format_ident!("update_{one}"),
            delete: format_ident!("delete_{one}"),
            update_if: format_ident!("update_{}_if", one.trim_end_matches('_')),
            delete_if: format_ident!("delete_{}_if", one.trim_end_matches('_')),
        }
    }
}

/// Fields the store sets on every write: a generated id, timestamps, version.
fn set_by_store(e: &Entity) -> Vec<&str> {
    let owner = e.owner.as_ref().map(|o| o.field.as_str());
    e.server_fields()
        .into_iter()
        .filter(|f| Some(*f) != owner)
        .collect()
}

/// `#[serde(...)]` for a typed input's field: its wire name, and how it is skipped.
fn serde_attrs(f: &Field, skip: Option<&str>) -> TokenStream {
    let mut attrs = Vec::new();
    if super::rust::unraw(&f.ident) != f.name {
        let wire = &f.name;
        attrs.push(quote! { rename = #wire });
    }
    if let Some(skip) = skip {
        attrs.push(quote! { skip_serializing_if = #skip });
    }
    if attrs.is_empty() {
        quote! {}
    } else {
        quote! { #[serde(#(#attrs),*)] }
    }
}

/// A field's type without nullability or optionality, boxed where the model boxes it.
fn field_ty(api: &Api, f: &Field) -> TokenStream {
    let bare = bare_ty(&api.types, &f.shape, Some(&models()));
    if f.boxed {
        quote! { Box<#bare> }
    } else {
        bare
    }
}

/// `NewOrder`: what a create or put takes, every field but those the store sets. Optional and
/// nullable fields are `Option`s: `None` leaves them out (and their default, if any, is stored).
fn emit_new(api: &Api, e: &Entity, s: &StructDef, type_name: &str) -> TokenStream {
    let skipped = set_by_store(e);
    let mut fields = TokenStream::new();
    for f in s
        .fields
        .iter()
        .filter(|f| !skipped.contains(&f.name.as_str()))
    {
        let doc = docs(f.doc.as_deref());
        let ty = field_ty(api, f);
        let (ty, skip) = if f.required && !f.shape.nullable {
            (ty, None)
        } else {
            (quote! { Option<#ty> }, Some("Option::is_none"))
        };
        let serde = serde_attrs(f, skip);
        let field = ident(&f.ident);
        fields.extend(quote! { #doc #serde pub #field: #ty, });
    }
    if let Additional::Typed(shape) = &s.additional {
        let values = ty(&api.types, shape, Some(&models()));
        let field = ident(&additional_ident(s));
        fields.extend(quote! {
            /// Properties beyond the declared ones.
            #[serde(flatten)]
            pub #field: std::collections::BTreeMap<String, #values>,
        });
    }
    let name = ident(&e.new_type);
    let doc = if skipped.is_empty() {
        format!(" A new [`models::{type_name}`], as a create or put takes it.")
    } else {
        format!(
            " A new [`models::{type_name}`], as a create or put takes it: every field but {}, which the store sets.",
            code_list(&skipped)
        )
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct #name {
            #fields
        }
    }
}

/// The field name `models` gave the additional properties of a struct.
fn additional_ident(s: &StructDef) -> String {
    let mut idents = Scope::default();
    for f in &s.fields {
        idents.claim(f.ident.clone());
    }
    idents.claim("additional_properties".into())
}

/// The fields an update can change: not those the store sets, the key's, nor read-only ones.
fn changeable<'a>(e: &Entity, s: &'a StructDef) -> Vec<&'a Field> {
    let skipped = set_by_store(e);
    let key = e.key.vars();
    let owner = e.owner.as_ref().map(|o| o.field.as_str());
    s.fields
        .iter()
        .filter(|f| {
            let name = f.name.as_str();
            !f.read_only && !skipped.contains(&name) && !key.contains(&name) && Some(name) != owner
        })
        .collect()
}

/// `OrderChanges`: a typed merge patch. A required field is kept (`None`) or set; an optional
/// one is kept, removed or set ([`store::Patch`]).
fn emit_changes(api: &Api, e: &Entity, s: &StructDef, type_name: &str) -> TokenStream {
    let mut fields = TokenStream::new();
    for f in changeable(e, s) {
        let doc = docs(f.doc.as_deref());
        let ty = field_ty(api, f);
        let (ty, skip) = if f.required && !f.shape.nullable {
            (quote! { Option<#ty> }, "Option::is_none")
        } else {
            (quote! { store::Patch<#ty> }, "store::Patch::is_keep")
        };
        let serde = serde_attrs(f, Some(skip));
        let field = ident(&f.ident);
        fields.extend(quote! { #doc #serde pub #field: #ty, });
    }
    let name = ident(&e.changes_type);
    let doc = format!(
        " Changes to a stored [`models::{type_name}`], sent as a merge patch: fields left at their default (`None`, `Patch::Keep`) keep their value."
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        pub struct #name {
            #fields
        }
    }
}

/// `a`, `a` and `b`, or `a`, `b` and `c`, in backticks.
fn code_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// A typed query method: its partition's variables as arguments, a range over the sort key's
/// first variable, a page.
struct PatternMethod {
    signature: TokenStream,
    body: TokenStream,
    doc: String,
}

fn pattern_method(api: &Api, e: &Entity, s: &StructDef, p: &Pattern) -> PatternMethod {
    let field_of = |name: &str| s.fields.iter().find(|f| f.name == name);
    let mut args = Vec::new();
    let mut binds = Vec::new();
    let mut arg_names = Scope::default();
    for name in ["page", "range"] {
        arg_names.claim(name.to_string());
    }
    for var in &p.partition {
        let Some(f) = field_of(var) else { continue };
        let (arg, ty) = partition_arg(api, f, &mut arg_names);
        args.push(quote! { #arg: #ty });
        binds.push(quote! { .bind(#var, #arg)? });
    }
    let range_field = p.range.as_deref().and_then(field_of);
    let (range_arg, range_call) = match range_field {
        Some(f) => {
            let bare = bare_ty(&api.types, &f.shape, Some(&models()));
            (
                Some(quote! { range: Option<store::Range<#bare>>, }),
                quote! { .range(range)? },
            )
        }
        None => (None, quote! {}),
    };
    let table = &api.tables[e.table];
    let index = some(p.index.map(|i| &table.indexes[i].name));
    let source = match p.index {
        Some(i) => format!("index `{}`", table.indexes[i].name),
        None => "the table".to_string(),
    };
    let by = if p.partition.is_empty() {
        String::new()
    } else {
        format!(
            " with this {}",
            code_list(&p.partition.iter().map(String::as_str).collect::<Vec<_>>())
        )
    };
    let sorted = match &p.range {
        Some(field) => format!(", sorted by `{field}`, which `range` compares"),
        None => String::new(),
    };
    let doc = format!(
        " One page of the {}{by}, from {source}{sorted}. One Query request; filters apply to the items it reads, so a filtered page may be short and still have a next cursor.",
        e.plural.replace('_', " ")
    );
    let method = ident(&p.method);
    let model = model(&api.types.get(e.type_id).name);
    let signature = quote! { #method(&self, #(#args,)* #range_arg page: impl Into<store::Select<#model>> + Send) };
    let body = quote! {
        self.query(store::Query::select(#index, page.into())? #(#binds)* #range_call).await
    };
    PatternMethod {
        signature,
        body,
        doc,
    }
}

/// A typed key and a repository trait per entity, implemented by `Store`
/// (DynamoDB or memory: the engine below is shared, so the semantics are too).
fn emit_repository(api: &Api, e: &Entity, schema: &Ident) -> TokenStream {
    let type_name = &api.types.get(e.type_id).name;
    let TypeKind::Struct(s) = &api.types.get(e.type_id).kind else {
        return TokenStream::new();
    };
    let key = ident(&e.key_type);
    let mut fields = TokenStream::new();
    for var in e.key.vars() {
        let Some(f) = s.fields.iter().find(|f| f.name == var) else {
            continue;
        };
        let serde = serde_attrs(f, None);
        let field = ident(&f.ident);
        let field_ty = bare_ty(&api.types, &f.shape, Some(&models()));
        fields.extend(quote! { #serde pub #field: #field_ty, });
    }
    let Methods {
        create,
        get,
        put,
        update,
        delete,
        update_if,
        delete_if,
    } = Methods::of(e);
    let repo = ident(&e.repository);
    let model = model(type_name);
    let new_ty = ident(&e.new_type);
    let changes_ty = ident(&e.changes_type);
    let ret = |t: TokenStream| {
        quote! { impl std::future::Future<Output = Result<#t, store::StoreError>> + Send }
    };
    let ret_batch = ret(quote! { Vec<Option<#model>> });
    let (ret_item, ret_option, ret_put, ret_unit, ret_page) = (
        ret(model.clone()),
        ret(quote! { Option<#model> }),
        ret(quote! { (#model, bool) }),
        ret(quote! { () }),
        ret(quote! { store::Page<#model> }),
    );
    // The read-only fields a new item holds: trusted code may set them.
    let skipped = set_by_store(e);
    let trusted: Vec<&str> = s
        .fields
        .iter()
        .filter(|f| f.read_only && !skipped.contains(&f.name.as_str()))
        .map(|f| f.name.as_str())
        .collect();
    let patterns: Vec<PatternMethod> = e
        .patterns
        .iter()
        .map(|p| pattern_method(api, e, s, p))
        .collect();
    let pattern_decls = patterns.iter().map(|p| {
        let (doc, signature) = (&p.doc, &p.signature);
        quote! { #[doc = #doc] fn #signature -> #ret_page; }
    });
    let pattern_impls = patterns.iter().map(|p| {
        let (signature, body) = (&p.signature, &p.body);
        quote! { async fn #signature -> Result<store::Page<#model>, store::StoreError> { #body } }
    });
    let scan = ident(&e.scan_method);
    let batch_get = ident(&e.batch_get_method);
    let batch_doc = format!(
        " Reads the {} at `keys`, in their order, `None` where there is none. One BatchGetItem per 100 distinct keys.",
        e.plural.replace('_', " ")
    );
    let key_doc =
        format!(" The primary key of a [`models::{type_name}`]: the fields its key templates use.");
    let repo_doc = format!(
        " Typed access to stored [`models::{type_name}`]s. [`store::Store`] implements it for DynamoDB and for memory alike."
    );
    let sets = if skipped.is_empty() {
        String::new()
    } else {
        format!(" The store sets {}.", code_list(&skipped))
    };
    let create_doc = format!(" Stores a new one, checked against the schema first (`Invalid` names what fails).{sets} One PutItem, or one TransactWriteItems with the guards of unique fields.");
    let put_doc = " Creates or replaces the one at `key` (the key's fields win over the item's); `true` when it was created. With `expected_version`, the stored one must have that version. One GetItem, then one conditional PutItem (a TransactWriteItems when unique guards move).";
    let update_doc = " Applies `changes` in one UpdateItem where it can (a GetItem first when a unique value or a partly known index key changes). With `expected_version`, the stored one must have that version.";
    let scan_doc = format!(
        " One page of every {}, by a Scan of the table: it reads every item, so prefer a query. Filters apply after the read, so a page may be short and still have a next cursor.",
        e.singular.replace('_', " ")
    );
    let new_item = emit_new(api, e, s, type_name);
    let changes = emit_changes(api, e, s, type_name);
    let tx_trait = ident(&e.transaction_trait);
    let check = format_ident!("check_{}", e.singular);
    let tx_doc = format!(
        " [`models::{type_name}`] writes as parts of a [`store::Transaction`]: committed with the other parts, all or none."
    );
    let fields_of_model = emit_fields(api, type_name, s);
    quote! {
        #[doc = #key_doc]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct #key {
            #fields
        }

        impl store::Key for #key {
            type Entity = #model;
        }

        #new_item

        impl #new_ty {
            /// Checks the schema's constraints (patterns, lengths, bounds, item counts) that the types do not hold.
            pub fn validate(&self) -> Result<(), store::StoreError> {
                store::check_item(&schemas::#schema, &store::fields_of(self)?, &[#(#skipped),*])
            }
        }

        impl store::NewItem for #new_ty {
            type Entity = #model;

            fn validate(&self) -> Result<(), store::StoreError> {
                #new_ty::validate(self)
            }
        }

        #changes

        impl #changes_ty {
            /// Checks each change against its field's schema: constraints the types do not hold, and that a required field is not removed.
            pub fn validate(&self) -> Result<(), store::StoreError> {
                store::check_changes(&schemas::#schema, &store::fields_of(self)?)
            }
        }

        #[doc = #repo_doc]
        pub trait #repo {
            #[doc = #create_doc]
            fn #create(&self, new: #new_ty) -> #ret_item;
            /// Reads one. One GetItem.
            fn #get(&self, key: &#key) -> #ret_option;
            #[doc = #batch_doc]
            fn #batch_get(&self, keys: &[#key]) -> #ret_batch;
            #[doc = #put_doc]
            fn #put(&self, key: &#key, item: #new_ty, expected_version: Option<i64>) -> #ret_put;
            #[doc = #update_doc]
            fn #update(&self, key: &#key, changes: #changes_ty, expected_version: Option<i64>) -> #ret_item;
            /// Deletes one. One DeleteItem (a GetItem and a TransactWriteItems when unique guards must go).
            fn #delete(&self, key: &#key, expected_version: Option<i64>) -> #ret_unit;
            /// Applies `changes` only while the stored one meets `conditions`, checked by DynamoDB with the write (one UpdateItem where it can): else `ConditionFailed` names the field, and nothing is written.
            fn #update_if(&self, key: &#key, changes: #changes_ty, expected_version: Option<i64>, conditions: &store::Conditions) -> #ret_item;
            /// Deletes one only while it meets `conditions` (one DeleteItem, as `delete` makes it): else `ConditionFailed` names the field, and nothing is deleted.
            fn #delete_if(&self, key: &#key, expected_version: Option<i64>, conditions: &store::Conditions) -> #ret_unit;
            #(#pattern_decls)*
            #[doc = #scan_doc]
            fn #scan(&self, page: impl Into<store::Select<#model>> + Send) -> #ret_page;
        }

        #[doc = #tx_doc]
        pub trait #tx_trait {
            /// Adds a create; answers the item as it will be stored (its id, timestamps, version and defaults).
            fn #create(&mut self, new: #new_ty) -> Result<#model, store::StoreError>;
            /// Adds an update, planned on the item as it is when the transaction is prepared.
            fn #update(&mut self, key: &#key, changes: #changes_ty, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError>;
            /// Adds a delete.
            fn #delete(&mut self, key: &#key, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError>;
            /// Adds a check that changes nothing: the item exists (with `expected_version`) and meets `conditions`.
            fn #check(&mut self, key: &#key, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError>;
        }

        impl #tx_trait for store::Transaction {
            fn #create(&mut self, new: #new_ty) -> Result<#model, store::StoreError> {
                new.validate()?;
                self.create::<#model>(store::fields_of(&new)?)
            }
            fn #update(&mut self, key: &#key, changes: #changes_ty, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError> {
                changes.validate()?;
                Ok(self.update::<#model>(store::fields_of(key)?, store::fields_of(&changes)?, expected_version, conditions))
            }
            fn #delete(&mut self, key: &#key, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError> {
                Ok(self.delete::<#model>(store::fields_of(key)?, expected_version, conditions))
            }
            fn #check(&mut self, key: &#key, expected_version: Option<i64>, conditions: store::Conditions) -> Result<&mut Self, store::StoreError> {
                Ok(self.check::<#model>(store::fields_of(key)?, expected_version, conditions))
            }
        }

        impl #repo for store::Store {
            async fn #create(&self, new: #new_ty) -> Result<#model, store::StoreError> {
                new.validate()?;
                self.create(store::fields_of(&new)?, &[#(#trusted),*]).await
            }
            async fn #get(&self, key: &#key) -> Result<Option<#model>, store::StoreError> {
                self.get(store::fields_of(key)?).await
            }
            async fn #batch_get(&self, keys: &[#key]) -> Result<Vec<Option<#model>>, store::StoreError> {
                let keys = keys.iter().map(store::fields_of).collect::<Result<_, _>>()?;
                self.batch_get(keys).await
            }
            async fn #put(&self, key: &#key, item: #new_ty, expected_version: Option<i64>) -> Result<(#model, bool), store::StoreError> {
                item.validate()?;
                self.put(store::fields_of(key)?, store::fields_of(&item)?, &[#(#trusted),*], expected_version).await
            }
            async fn #update(&self, key: &#key, changes: #changes_ty, expected_version: Option<i64>) -> Result<#model, store::StoreError> {
                changes.validate()?;
                self.update(store::fields_of(key)?, store::fields_of(&changes)?, expected_version).await
            }
            async fn #delete(&self, key: &#key, expected_version: Option<i64>) -> Result<(), store::StoreError> {
                self.delete::<#model>(store::fields_of(key)?, expected_version).await
            }
            async fn #update_if(&self, key: &#key, changes: #changes_ty, expected_version: Option<i64>, conditions: &store::Conditions) -> Result<#model, store::StoreError> {
                changes.validate()?;
                self.update_if(store::fields_of(key)?, store::fields_of(&changes)?, expected_version, conditions).await
            }
            async fn #delete_if(&self, key: &#key, expected_version: Option<i64>, conditions: &store::Conditions) -> Result<(), store::StoreError> {
                self.delete_if::<#model>(store::fields_of(key)?, expected_version, conditions).await
            }
            #(#pattern_impls)*
            async fn #scan(&self, page: impl Into<store::Select<#model>> + Send) -> Result<store::Page<#model>, store::StoreError> {
                let select = page.into();
                self.query(store::Query::scan(select.page).filtered(select.filters)?).await
            }
        }

        #fields_of_model
    }
}

/// A typed handle per field of the entity, for filters in hand-written queries:
/// `models::Order::TOTAL.gte(&100)`. Date-times get none: they are stored with varying
/// fractional seconds, so their text neither sorts nor matches as instants do.
fn emit_fields(api: &Api, type_name: &str, s: &StructDef) -> TokenStream {
    let model = model(type_name);
    let mut names = Scope::default();
    let is_time = |f: &&Field| {
        matches!(
            api.types.resolve(&f.shape).ty,
            Ty::String(StrFormat::DateTime)
        )
    };
    let consts = s.fields.iter().filter(|f| !is_time(f)).map(|f| {
        let name = format_ident!("{}", names.claim(const_name(&f.name)));
        let field_ty = bare_ty(&api.types, &f.shape, Some(&models()));
        let wire = &f.name;
        let doc = format!(" `{wire}`, for filters.");
        quote! {
            #[doc = #doc]
            pub const #name: store::Field<#model, #field_ty> = store::Field::new(#wire);
        }
    });
    quote! {
        impl #model {
            #(#consts)*
        }
    }
}

pub fn emit_actions(api: &Api) -> TokenStream {
    let mut out = inner_docs(
        "The built-in storage actions: the default body of each operation that has one.",
    );
    // Repository methods are called on the store: their traits must be in scope.
    let mut repositories: Vec<Ident> = Vec::new();
    for op in &api.operations {
        // Gets and deletes go through the repository; the other actions hand the store the
        // request's own fields.
        if let Some(action) = op
            .action
            .as_ref()
            .filter(|a| a.verb == Verb::Get || (a.verb == Verb::Delete && a.condition.is_empty()))
        {
            let repo = ident(&api.entities[action.entity].repository);
            if !repositories.contains(&repo) {
                repositories.push(repo);
            }
        }
    }
    let entities = generated("entities");
    out.extend(quote! { #[allow(unused_imports)] });
    out.extend(use_generated("entities"));
    if !repositories.is_empty() {
        out.extend(quote! { use #entities::{#(#repositories as _),*}; });
    }
    out.extend(use_runtime("http"));
    out.extend(quote! { #[allow(unused_imports)] });
    out.extend(use_generated("models"));
    out.extend(use_generated("operations"));
    out.extend(use_runtime("store"));
    if api.has_security() {
        out.extend(use_runtime("auth"));
    }
    out.extend(helpers());
    if api.entities.iter().any(|e| e.owner.is_some()) {
        out.extend(owner_helper());
    }
    let opened_to_groups = api.operations.iter().any(|o| {
        o.action.as_ref().is_some_and(|a| {
            a.owner
                .as_ref()
                .is_some_and(|w| w.confined && w.param.is_some())
                && !a.access.groups.is_empty()
                && !a.access.authenticated
        })
    });
    if opened_to_groups {
        out.extend(use_generated("security"));
        out.extend(quote! { use auth::Required as _; });
    }
    for op in &api.operations {
        if let Some(action) = &op.action {
            out.extend(emit_action(api, op, action));
        }
    }
    out
}

fn helpers() -> TokenStream {
    quote! {
        /// A value as JSON; serializing generated types cannot fail, but a failure is still an error, not a panic.
        fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, http::ApiError> {
            serde_json::to_value(value).map_err(http::ApiError::internal)
        }

        /// The fields of a request body, as the store takes them.
        #[allow(dead_code)]
        fn fields<T: serde::Serialize>(body: &T) -> Result<serde_json::Map<String, serde_json::Value>, http::ApiError> {
            match json(body)? {
                serde_json::Value::Object(map) => Ok(map),
                _ => Err(http::ApiError::bad_request("the request body must be a JSON object")),
            }
        }

        /// The typed key of an item, from the fields bound from the path.
        #[allow(dead_code)]
        fn typed_key<K: serde::de::DeserializeOwned>(fields: serde_json::Map<String, serde_json::Value>) -> Result<K, http::ApiError> {
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| http::ApiError::bad_request(format!("the key is not valid: {e}")))
        }

        /// A field's value as text, for building a Location header.
        #[allow(dead_code)]
        fn text(item: &serde_json::Value, field: &str) -> String {
            match item.get(field) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }
        }

        /// A parameter's value as the text a sort key holds.
        #[allow(dead_code)]
        fn key_text(value: serde_json::Value) -> String {
            match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }
        }

        /// The ETag of an item, from its version field.
        #[allow(dead_code)]
        fn etag(item: &serde_json::Value, field: &str) -> Option<String> {
            item.get(field).and_then(serde_json::Value::as_i64).map(store::etag)
        }
    }
}

/// The action's request parameter, noting whether the body reads it: a list with no
/// parameters reads nothing from its request, and names it `_request`.
#[derive(Default)]
struct Request {
    used: Cell<bool>,
}

impl Request {
    /// `request.field`.
    fn field(&self, name: &str) -> TokenStream {
        self.used.set(true);
        let name = ident(name);
        quote! { request.#name }
    }

    fn binding(&self) -> Ident {
        if self.used.get() {
            format_ident!("request")
        } else {
            format_ident!("_request")
        }
    }
}

/// Key (or bound) fields of an item, read from the request's parameters into a map named
/// `map`.
fn bound_fields(
    op: &Operation,
    action: &BoundAction,
    only: Option<&[&str]>,
    map: &Ident,
    request: &Request,
) -> TokenStream {
    let owner = owner_field(action);
    let wanted = |f: &str| only.is_none_or(|o| o.contains(&f));
    let any = owner.is_some_and(wanted) || action.bindings.iter().any(|(f, _)| wanted(f));
    let mutable = any.then(|| quote! { mut });
    let mut out = quote! { let #mutable #map = serde_json::Map::new(); };
    if let Some(field) = owner.filter(|f| wanted(f)) {
        out.extend(
            quote! { #map.insert(#field.into(), serde_json::Value::String(owner.clone())); },
        );
    }
    for (field, p) in &action.bindings {
        if !wanted(field) || Some(field.as_str()) == owner {
            continue;
        }
        let param = &op.params[*p];
        let value = request.field(&param.ident);
        out.extend(if param.required {
            quote! { #map.insert(#field.into(), json(&#value)?); }
        } else {
            quote! { if let Some(value) = &#value { #map.insert(#field.into(), json(value)?); } }
        });
    }
    out
}

/// `let key = OrderKey { .. };` straight from the request's parameters when
/// their types are the key's, else through the fields (converted by serde).
fn typed_key_line(
    api: &Api,
    op: &Operation,
    action: &BoundAction,
    entity: &Entity,
    request: &Request,
) -> TokenStream {
    let TypeKind::Struct(s) = &api.types.get(entity.type_id).kind else {
        unreachable!("entities are structs")
    };
    let key = ident(&entity.key_type);
    let models = models();
    let mut fields = Vec::new();
    for var in entity.key.vars() {
        let field = s.fields.iter().find(|f| f.name == var);
        if let (Some(f), Some(_)) = (field, owner_field(action).filter(|o| *o == var)) {
            let field = ident(&f.ident);
            fields.push(quote! { #field: owner.clone() });
            continue;
        }
        let param = action.binding(var).map(|p| &op.params[p]);
        match (field, param) {
            (Some(f), Some(p))
                if p.required
                    && ty(&api.types, &p.shape, Some(&models)).to_string()
                        == bare_ty(&api.types, &f.shape, Some(&models)).to_string() =>
            {
                let field = ident(&f.ident);
                let value = request.field(&p.ident);
                fields.push(quote! { #field: #value });
            }
            _ => {
                let bound = bound_fields(
                    op,
                    action,
                    Some(&entity.key.vars()),
                    &format_ident!("key"),
                    request,
                );
                return quote! {
                    #bound
                    let key: entities::#key = typed_key(key)?;
                };
            }
        }
    }
    quote! { let key = entities::#key { #(#fields),* }; }
}

/// `let expected = ..`: the version the `If-Match` header requires of the item at `key`
/// (`creates`: the action creates a missing item).
fn if_match(
    api: &Api,
    op: &Operation,
    action: &BoundAction,
    creates: bool,
    request: &Request,
) -> TokenStream {
    let header = match action.if_match {
        Some(p) if op.params[p].required => {
            let value = request.field(&op.params[p].ident);
            quote! { Some(#value.as_str()) }
        }
        Some(p) => {
            let value = request.field(&op.params[p].ident);
            quote! { #value.as_deref() }
        }
        None => return quote! { let expected = None; },
    };
    let entity = model(&api.types.get(api.entities[action.entity].type_id).name);
    quote! { let expected = store.if_match::<#entity, _>(&key, #header, #creates).await?; }
}

/// Constructs the response variant at `index` holding `item`.
fn respond(
    api: &Api,
    op: &Operation,
    index: usize,
    item: TokenStream,
    entity: &Entity,
) -> TokenStream {
    let r = &op.responses[index];
    let name = response_name(op);
    let variant = ident(&r.variant);
    if !variant_has_fields(r) {
        return if r.media.is_some() {
            quote! { operations::#name::#variant(#item) }
        } else {
            quote! { operations::#name::#variant }
        };
    }
    let mut fields = Vec::new();
    for h in &r.headers {
        let value = if h.name.eq_ignore_ascii_case("etag") && entity.version.is_some() {
            version_etag(api, entity, &item)
        } else if h.name.eq_ignore_ascii_case("location") {
            let location = location(api, entity);
            quote! { Some(#location) }
        } else {
            quote! { None }
        };
        let field = ident(&h.ident);
        fields.push(if h.required {
            quote! { #field: #value.unwrap_or_default() }
        } else {
            quote! { #field: #value }
        });
    }
    // The body last: the headers read the item's fields before it moves into the response.
    if r.media.is_some() {
        fields.push(quote! { body: #item });
    }
    quote! { operations::#name::#variant { #(#fields),* } }
}

/// The ETag of `item` (an entity's model), from its version field: read from the typed field,
/// so that answering costs no second serialisation of the item. The field is an integer (the
/// model checks it) of any width, and optional or nullable as its schema says.
fn version_etag(api: &Api, entity: &Entity, item: &TokenStream) -> TokenStream {
    let version = entity.version.as_deref().unwrap_or_default();
    let field = match &api.types.get(entity.type_id).kind {
        TypeKind::Struct(s) => s.fields.iter().find(|f| f.name == version),
        _ => None,
    };
    let Some(field) = field else {
        return quote! { etag(&serde_json::to_value(&#item).unwrap_or_default(), #version) };
    };
    let name = ident(&field.ident);
    let value = quote! { #item.#name };
    let format = match field.shape.ty {
        Ty::Integer(format) => format,
        _ => IntFormat::I64,
    };
    match (
        u8::from(field.optional()) + u8::from(field.shape.nullable),
        format,
    ) {
        (0, IntFormat::I64) => quote! { Some(store::etag(#value)) },
        (0, IntFormat::U64) => quote! { i64::try_from(#value).ok().map(store::etag) },
        (0, _) => quote! { Some(store::etag(i64::from(#value))) },
        (depth, format) => {
            let value = if depth == 2 {
                quote! { #value.flatten() }
            } else {
                value
            };
            match format {
                IntFormat::I64 => quote! { #value.map(store::etag) },
                IntFormat::U64 => {
                    quote! { #value.and_then(|v| i64::try_from(v).ok()).map(store::etag) }
                }
                _ => quote! { #value.map(|v| store::etag(i64::from(v))) },
            }
        }
    }
}

/// A `format!` building the URL of an item: the path of the entity's `get`
/// operation with its parameters filled in from the item.
fn location(api: &Api, entity: &Entity) -> TokenStream {
    let get = api.operations.iter().find(|o| {
        o.action
            .as_ref()
            .is_some_and(|a| a.verb == Verb::Get && api.entities[a.entity].schema == entity.schema)
    });
    let Some(get) = get else {
        return quote! { String::new() };
    };
    let action = get.action.as_ref().expect("found by its action");
    let mut template = String::new();
    let mut args = Vec::new();
    let mut rest = get.path.as_str();
    while let Some(start) = rest.find('{') {
        template.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or(rest.len() - 1);
        let name = &rest[start + 1..end];
        let field = get
            .params
            .iter()
            .position(|p| p.name == name)
            .and_then(|p| {
                action
                    .bindings
                    .iter()
                    .find(|(_, b)| *b == p)
                    .map(|(f, _)| f.clone())
            })
            .unwrap_or_else(|| name.to_string());
        template.push_str("{}");
        args.push(quote! { text(&doc, #field) });
        rest = &rest[end + 1..];
    }
    template.push_str(rest);
    quote! { format!(#template, #(#args),*) }
}

/// The owner field an action binds from the caller (`None` where it reads every owner's
/// items, or the entity has no owner).
fn owner_field(action: &BoundAction) -> Option<&str> {
    action
        .owner
        .as_ref()
        .filter(|o| o.confined)
        .map(|o| o.field.as_str())
}

/// `fn owner(..)`: the caller's claim that owns items.
fn owner_helper() -> TokenStream {
    quote! {
        /// The caller's claim that says whose items are read and written: a token without it owns
        /// nothing (403).
        fn owner(caller: &auth::Caller, claim: &str) -> Result<String, http::ApiError> {
            caller.claim(claim).ok_or_else(|| {
                http::ApiError::forbidden(format!("the token has no `{claim}` claim, which says whose items these are"))
            })
        }
    }
}

/// `let owner = ..;`: whose items the action works on. The caller's own, unless an `access` rule
/// opens the action to them and the request names another owner; a request naming another owner
/// without such a rule finds nothing, as if that owner had no items.
fn owner_line(api: &Api, op: &Operation, action: &BoundAction, request: &Request) -> TokenStream {
    let Some(owner) = action.owner.as_ref().filter(|o| o.confined) else {
        return TokenStream::new();
    };
    let claim = &owner.claim;
    let Some(p) = owner.param else {
        return quote! { let owner = owner(&caller, #claim)?; };
    };
    let param = &op.params[p];
    let value = request.field(&param.ident);
    let entity = &api.entities[action.entity];
    let missing = format!("no {} has this key", entity.schema);
    if action.access.authenticated {
        return if param.required {
            quote! { let owner = #value.clone(); }
        } else {
            quote! { let owner = match &#value { Some(named) => named.clone(), None => owner(&caller, #claim)? }; }
        };
    }
    let refuse = quote! { return Err(http::ApiError::not_found(#missing)) };
    let opened = (!action.access.groups.is_empty()).then(|| {
        let marker = super::security::marker(op);
        quote! { security::#marker::SECURITY.access.through_group(&caller) }
    });
    if param.required {
        let other = match opened {
            Some(opened) => quote! { if #opened { #value.clone() } else { #refuse } },
            None => quote! { { #refuse } },
        };
        return quote! {
            let own = owner(&caller, #claim)?;
            let owner = if #value == own { own } else #other;
        };
    }
    let other = match opened {
        Some(opened) => quote! { if #opened { named.clone() } else { #refuse } },
        None => refuse,
    };
    quote! {
        let own = owner(&caller, #claim)?;
        let owner = match &#value {
            Some(named) if *named != own => #other,
            _ => own,
        };
    }
}

fn emit_action(api: &Api, op: &Operation, action: &BoundAction) -> TokenStream {
    let entity = &api.entities[action.entity];
    let request = Request::default();
    let owner = owner_line(api, op, action, &request);
    let body = action_body(api, op, action, &request);
    let body = quote! { #owner #body };
    let doc = format!(
        " `{} {}`: `{}` on `{}`.",
        op.method.upper(),
        op.path,
        action.verb.as_str(),
        entity.schema
    );
    let name = ident(&op.ident);
    let binding = request.binding();
    let request_ty = request_name(op);
    let response_ty = response_name(op);
    let caller = op.security.is_secured().then(|| {
        if owner_field(action).is_some() {
            quote! { caller: auth::Caller, }
        } else {
            quote! { _caller: auth::Caller, }
        }
    });
    quote! {
        #[doc = #doc]
        pub async fn #name(store: &store::Store, #caller #binding: operations::#request_ty) -> Result<operations::#response_ty, http::ApiError> {
            #body
        }
    }
}

/// The statements of an action's function.
fn action_body(api: &Api, op: &Operation, action: &BoundAction, request: &Request) -> TokenStream {
    let entity = &api.entities[action.entity];
    let mut bound_names: Vec<&str> = action.bindings.iter().map(|(f, _)| f.as_str()).collect();
    if let Some(owner) = owner_field(action) {
        if !bound_names.contains(&owner) {
            bound_names.push(owner);
        }
    }
    let needs_doc = |index: usize| {
        op.responses[index]
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("location"))
    };
    let doc_line = |index: usize| needs_doc(index).then(|| quote! { let doc = json(&item)?; });
    let methods = Methods::of(entity);
    let model = model(&api.types.get(entity.type_id).name);
    let conditions = conditions_line(action);
    let (update_call, put_call, conditions_arg) = if action.condition.is_empty() {
        (format_ident!("update"), format_ident!("put"), quote! {})
    } else {
        (
            format_ident!("update_if"),
            format_ident!("put_if"),
            quote! { , &conditions },
        )
    };
    let key = ident(&entity.key_type);
    let key_map = format_ident!("key");
    let item = || quote! { item };
    match action.verb {
        Verb::Create => {
            let bound = bound_fields(op, action, None, &key_map, request);
            let body = request.field("body");
            let doc = doc_line(action.success);
            let response = respond(api, op, action.success, item(), entity);
            quote! {
                #bound
                let mut fields = fields(&#body)?;
                fields.extend(key);
                let item: #model = store.create(fields, &[#(#bound_names),*]).await?;
                #doc
                Ok(#response)
            }
        }
        Verb::Get => {
            let key_line = typed_key_line(api, op, action, entity, request);
            let get = &methods.get;
            let missing = format!("no {} has this key", entity.schema);
            let doc = doc_line(action.success);
            let response = respond(api, op, action.success, item(), entity);
            quote! {
                #key_line
                let item = store.#get(&key).await?.ok_or_else(|| http::ApiError::not_found(#missing))?;
                #doc
                Ok(#response)
            }
        }
        Verb::Put => {
            let bound = bound_fields(op, action, None, &key_map, request);
            let body = request.field("body");
            let expected = if_match(api, op, action, true, request);
            let created = action.created.unwrap_or(action.success);
            let doc = (needs_doc(created) || needs_doc(action.success))
                .then(|| quote! { let doc = json(&item)?; });
            let on_create = respond(api, op, created, item(), entity);
            let on_replace = respond(api, op, action.success, item(), entity);
            quote! {
                #bound
                let mut fields = fields(&#body)?;
                fields.extend(key.clone());
                let key: entities::#key = typed_key(key)?;
                #expected
                #conditions
                let (item, created): (#model, bool) = store.#put_call(store::fields_of(&key)?, fields, &[#(#bound_names),*], expected #conditions_arg).await?;
                #doc
                Ok(if created { #on_create } else { #on_replace })
            }
        }
        Verb::Update => {
            let key_line = typed_key_line(api, op, action, entity, request);
            let expected = if_match(api, op, action, false, request);
            let body = request.field("body");
            let doc = doc_line(action.success);
            let response = respond(api, op, action.success, item(), entity);
            quote! {
                #key_line
                #expected
                #conditions
                let item: #model = store.#update_call(store::fields_of(&key)?, fields(&#body)?, expected #conditions_arg).await?;
                #doc
                Ok(#response)
            }
        }
        Verb::Delete => {
            let key_line = typed_key_line(api, op, action, entity, request);
            let expected = if_match(api, op, action, false, request);
            let delete = &methods.delete;
            let delete_line = if action.condition.is_empty() {
                quote! { store.#delete(&key, expected).await?; }
            } else {
                quote! {
                    #conditions
                    store.delete_if::<#model>(store::fields_of(&key)?, expected, &conditions).await?;
                }
            };
            let response = respond(api, op, action.success, item(), entity);
            quote! {
                #key_line
                #expected
                #delete_line
                Ok(#response)
            }
        }
        Verb::Query | Verb::List => query_body(api, op, action, entity, request),
    }
}

/// `let conditions = ...;` for an action with a `condition`, else nothing.
fn conditions_line(action: &BoundAction) -> TokenStream {
    if action.condition.is_empty() {
        return TokenStream::new();
    }
    let calls = action.condition.iter().map(|(field, values)| {
        let values = values.iter().map(json_value);
        quote! { .one_of(#field, [#(#values),*])? }
    });
    quote! { let conditions = store::Conditions::default() #(#calls)*; }
}

/// A scalar JSON value as a `serde_json::Value` expression.
fn json_value(value: &serde_json::Value) -> TokenStream {
    match value {
        serde_json::Value::String(s) => quote! { serde_json::Value::from(#s) },
        serde_json::Value::Bool(b) => quote! { serde_json::Value::from(#b) },
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => quote! { serde_json::Value::from(#i) },
            (None, Some(f)) => quote! { serde_json::Value::from(#f) },
            (None, None) => quote! { serde_json::Value::Null },
        },
        _ => quote! { serde_json::Value::Null },
    }
}

fn query_body(
    api: &Api,
    op: &Operation,
    action: &BoundAction,
    entity: &Entity,
    request: &Request,
) -> TokenStream {
    let values = bound_fields(op, action, None, &format_ident!("values"), request);
    let index = some(
        action
            .index
            .map(|i| &api.tables[entity.table].indexes[i].name),
    );
    // A parameter's value as the text a sort key compares, if it has one.
    let bound = |index: usize| {
        let p = &op.params[index];
        let param = request.field(&p.ident);
        let value = if p.required {
            quote! { Some(&#param) }
        } else {
            quote! { #param.as_ref() }
        };
        quote! { #value.map(json).transpose()?.map(key_text) }
    };
    let range = match &action.range {
        Some(r) => {
            let value = bound(r.param);
            match r.op {
                RangeOp::Between { to } => {
                    let high = bound(to);
                    quote! { store::Range::from_bounds(#value, #high) }
                }
                single => {
                    let op = format_ident!("{}", single.rust());
                    quote! { #value.map(store::Range::#op) }
                }
            }
        }
        None => quote! { None },
    };
    let limit = match action.limit {
        Some(p) if op.params[p].required => {
            let param = request.field(&op.params[p].ident);
            quote! { usize::try_from(#param).unwrap_or(1).clamp(1, 1000) }
        }
        Some(p) => {
            let default = op.params[p]
                .default
                .as_ref()
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(50);
            let default = Literal::u64_unsuffixed(default);
            let param = request.field(&op.params[p].ident);
            quote! { #param.map_or(#default, |n| usize::try_from(n).unwrap_or(1)).clamp(1, 1000) }
        }
        None => quote! { 50 },
    };
    let cursor = match action.cursor {
        Some(p) if op.params[p].required => {
            let param = request.field(&op.params[p].ident);
            quote! { Some(#param.clone()) }
        }
        Some(p) => {
            let param = request.field(&op.params[p].ident);
            quote! { #param.clone() }
        }
        None => quote! { None },
    };
    let descending = action.order == crate::model::actions::SortOrder::Desc;
    let scan = action.scan;
    let (filter_setup, filter) = filters(op, action, request);
    let entity_ty = model(&api.types.get(entity.type_id).name);
    let shape = action.page.as_ref().expect("queries have a page shape");
    let page_def = api.types.get(shape.type_id);
    let TypeKind::Struct(s) = &page_def.kind else {
        unreachable!("pages are structs")
    };
    // The page's fields as `models` named them.
    let mut idents = Scope::default();
    let mut fields = Vec::new();
    for f in &s.fields {
        idents.claim(f.ident.clone());
        let value = if f.name == shape.items {
            if f.optional() {
                quote! { Some(page.items) }
            } else {
                quote! { page.items }
            }
        } else if Some(&f.name) == shape.cursor.as_ref() {
            match (f.optional(), f.shape.nullable) {
                (true, true) => quote! { Some(page.next_cursor) },
                (false, false) => quote! { page.next_cursor.unwrap_or_default() },
                _ => quote! { page.next_cursor },
            }
        } else if f.optional() || f.shape.nullable {
            quote! { None }
        } else {
            quote! { Default::default() }
        };
        let field = ident(&f.ident);
        fields.push(quote! { #field: #value });
    }
    if let crate::model::Additional::Typed(_) = &s.additional {
        let field = ident(&idents.claim("additional_properties".into()));
        fields.push(quote! { #field: Default::default() });
    }
    let page_ty = model(&page_def.name);
    let response = respond(
        api,
        op,
        action.success,
        quote! { #page_ty { #(#fields),* } },
        entity,
    );
    quote! {
        #values
        #filter_setup
        let page: store::Page<#entity_ty> = store.query(store::Query {
            index: #index,
            values,
            range: #range,
            descending: #descending,
            limit: #limit,
            cursor: #cursor,
            scan: #scan,
            #filter
        }).await?;
        Ok(#response)
    }
}

/// The statements that collect the action's declared filters from the request (a filter whose
/// optional parameter is absent tests nothing), and the query's `filter` field.
fn filters(op: &Operation, action: &BoundAction, request: &Request) -> (TokenStream, TokenStream) {
    if action.filter.is_empty() {
        return (TokenStream::new(), quote! { filter: Vec::new() });
    }
    let pushes = action.filter.iter().map(|f| {
        let p = &op.params[f.param];
        let param = request.field(&p.ident);
        let field = &f.field;
        let variant = format_ident!("{}", f.op.rust());
        let push = |value: TokenStream| {
            quote! {
                filter.push(store::Filter {
                    field: #field.into(),
                    op: store::FilterOp::#variant,
                    value: json(#value)?,
                });
            }
        };
        if p.required {
            push(quote! { &#param })
        } else {
            let test = push(quote! { value });
            quote! { if let Some(value) = &#param { #test } }
        }
    });
    let setup = quote! {
        let mut filter = Vec::new();
        #(#pushes)*
    };
    (setup, quote! { filter })
}

#[cfg(test)]
mod unit {
    use std::path::Path;

    /// actions.rs for a spec, as printed.
    fn actions(spec: &str) -> String {
        let loaded = crate::load::parse(Path::new("t.yaml"), spec.to_string()).expect("parses");
        let api = crate::model::build(&loaded, None).expect("valid");
        let file = syn::parse2(super::emit_actions(&api)).expect("a Rust file");
        prettyplease::unparse(&file)
    }

    const SPEC: &str = r#"openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK}}}
paths:
  /notes:
    get:
      operationId: listNotes
      x-apigen-action: {list: Note}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/NotePage'}}}}
  /notes/{noteId}:
    get:
      operationId: getNote
      parameters: [{name: noteId, in: path, required: true, schema: {type: string}}]
      x-apigen-action: {get: Note, bind: {noteId: id}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
components:
  schemas:
    Note:
      type: object
      required: [id]
      properties: {id: {type: string}}
      x-apigen-entity: {id: {field: id, generate: ulid}, key: {pk: "NOTE#{id}", sk: NOTE}}
    NotePage:
      type: object
      required: [items]
      properties: {items: {type: array, items: {$ref: '#/components/schemas/Note'}}}
"#;

    /// A get answering an ETag from a version field declared as `version`.
    fn versioned(version: &str, required: &str) -> String {
        let spec = r#"openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK}}}
paths:
  /notes/{noteId}:
    get:
      operationId: getNote
      parameters: [{name: noteId, in: path, required: true, schema: {type: string}}]
      x-apigen-action: {get: Note, bind: {noteId: id}}
      responses:
        '200':
          description: ok
          headers: {ETag: {schema: {type: string}}}
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
components:
  schemas:
    Note:
      type: object
      required: REQUIRED
      properties: {id: {type: string}, revision: VERSION}
      x-apigen-entity: {id: {field: id}, key: {pk: "NOTE#{id}", sk: NOTE}, version: revision}
"#;
        actions(
            &spec
                .replace("VERSION", version)
                .replace("REQUIRED", required),
        )
    }

    #[test]
    fn the_etag_is_read_from_the_typed_version_field_of_any_width() {
        // Compared without whitespace: the printer breaks long chains over lines.
        let flat = |out: String| out.replace(char::is_whitespace, "");
        let out = flat(versioned(
            "{type: integer, format: int32}",
            "[id, revision]",
        ));
        assert!(
            out.contains("etag:Some(store::etag(i64::from(item.revision))),"),
            "{out}"
        );
        let out = flat(versioned(
            "{type: integer, format: int64}",
            "[id, revision]",
        ));
        assert!(
            out.contains("etag:Some(store::etag(item.revision)),"),
            "{out}"
        );
        let out = flat(versioned(
            "{type: integer, format: uint64, nullable: true}",
            "[id]",
        ));
        assert!(
            out.contains(
                "etag:item.revision.flatten().and_then(|v|i64::try_from(v).ok()).map(store::etag),"
            ),
            "{out}"
        );
        // The headers read the item before it moves into the body.
        let etag = out.find("etag:").expect("an etag");
        assert!(out[etag..].contains("body:item"), "{out}");
        assert!(!out.contains("json(&item)"), "{out}");
    }

    #[test]
    fn an_action_that_reads_nothing_from_its_request_names_it_unused() {
        let out = actions(SPEC);
        assert!(
            out.contains("_request: operations::ListNotesRequest"),
            "{out}"
        );
        assert!(
            out.contains("    request: operations::GetNoteRequest"),
            "{out}"
        );
        assert!(
            out.contains("let values = serde_json::Map::new();"),
            "{out}"
        );
        assert!(
            out.contains("use crate::generated::entities::NoteRepository as _;"),
            "{out}"
        );
    }
}
