//! Converting OpenAPI schemas into the type IR.
//!
//! Component schemas are registered first so that references (and cycles of
//! references) resolve; inline schemas that need a Rust type are named after
//! where they appear (`Order` + `items` + item = `OrderItemsItem`), which is
//! stable as long as the spec's structure is.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use super::names::{self, Scope};
use super::types::*;
use crate::diagnostic::Diagnostic;
use crate::json_pointer::pointer;

pub struct SchemaConverter<'a> {
    components: &'a IndexMap<String, ReferenceOr<Schema>>,
    pub space: TypeSpace,
    by_component: BTreeMap<String, TypeId>,
    /// Every Rust type name taken in the models and operations modules.
    pub type_names: Scope,
    /// Types given a kind by [`define`](Self::define).
    defined: BTreeSet<TypeId>,
    /// Schemas being converted that define a type, by address, with that
    /// type (none for a map) and their pointer. An `allOf` that merges an
    /// enclosing schema meets its own members again inside itself: they
    /// refer to the type being defined rather than expanding without end.
    open: Vec<(*const Schema, Option<TypeId>, String)>,
    pub diagnostics: Vec<Diagnostic>,
}

pub const COMPONENT_PREFIX: &str = "#/components/schemas/";

impl<'a> SchemaConverter<'a> {
    pub fn new(components: &'a IndexMap<String, ReferenceOr<Schema>>) -> Self {
        let mut converter = Self {
            components,
            space: TypeSpace::default(),
            by_component: BTreeMap::new(),
            type_names: Scope::with_reserved(names::RESERVED_TYPES),
            defined: BTreeSet::new(),
            open: Vec::new(),
            diagnostics: Vec::new(),
        };
        for name in components.keys() {
            let id = converter.allocate(name, &pointer(["components", "schemas", name]));
            converter.by_component.insert(name.clone(), id);
        }
        converter
    }

    /// Converts every component schema, whether or not an operation uses it.
    pub fn convert_components(&mut self) {
        for (name, schema) in self.components {
            let id = self.by_component[name];
            let at = pointer(["components", "schemas", name]);
            let hint = self.space.get(id).name.clone();
            let shape = self.convert_with(schema, &at, &hint, Some(id));
            if !matches!(shape.ty, Ty::Ref(target) if target == id) || !self.defined.contains(&id) {
                // Not an object/enum/union: the component is an alias (of
                // itself, when all it says is `$ref` to itself).
                let mut shape = shape;
                if matches!(schema, ReferenceOr::Item(s) if s.schema_data.nullable) {
                    shape.nullable = false;
                }
                let def = self.space.get_mut(id);
                def.kind = TypeKind::Alias(shape);
            }
            if let ReferenceOr::Item(s) = schema {
                let def = self.space.get_mut(id);
                def.doc = doc_of(s).or(def.doc.take());
                def.example = s.schema_data.example.clone();
            }
        }
        self.break_alias_cycles();
    }

    /// Components that are only other components (`A: {$ref: B}`,
    /// `B: {$ref: A}`, or `A: {$ref: A}`) never say what a value is; every
    /// later stage follows aliases, so a cycle of them is reported and cut.
    fn break_alias_cycles(&mut self) {
        let next = |space: &TypeSpace, id: TypeId| match &space.get(id).kind {
            TypeKind::Alias(Shape {
                ty: Ty::Ref(target),
                ..
            }) => Some(*target),
            _ => None,
        };
        let mut done = vec![false; self.space.defs.len()];
        for start in self.space.ids().collect::<Vec<_>>() {
            let mut path: Vec<TypeId> = Vec::new();
            let mut current = Some(start);
            while let Some(id) = current {
                if done[id.0] {
                    break;
                }
                if let Some(from) = path.iter().position(|p| *p == id) {
                    let cycle = path[from..].to_vec();
                    self.report_alias_cycle(&cycle);
                    // Cut the cycle at its first member: it becomes any value.
                    self.space.get_mut(cycle[0]).kind = TypeKind::Alias(Shape::any());
                    break;
                }
                path.push(id);
                current = next(&self.space, id);
            }
            for id in path {
                done[id.0] = true;
            }
        }
    }

    fn report_alias_cycle(&mut self, cycle: &[TypeId]) {
        let name = |id: &TypeId| {
            let pointer = &self.space.get(*id).pointer;
            pointer
                .strip_prefix("/components/schemas/")
                .map(|n| n.replace("~1", "/").replace("~0", "~"))
                .unwrap_or_else(|| pointer.clone())
        };
        let first = &cycle[0];
        let mut at = self.space.get(*first).pointer.clone();
        if let Some(ReferenceOr::Reference { .. }) = self.components.get(&name(first)) {
            at.push_str("/$ref");
        }
        let message = if cycle.len() == 1 {
            format!(
                "schema `{}` is defined only as itself, so it never says what a value is",
                name(first)
            )
        } else {
            let chain: Vec<String> = cycle
                .iter()
                .chain([first])
                .map(|id| format!("`{}`", name(id)))
                .collect();
            format!(
                "schemas {} are defined only as each other, so they never say what a value is",
                chain.join(" → ")
            )
        };
        self.diagnostics.push(
            Diagnostic::error(at, message).help(format!(
                "give `{}` its own definition, such as `type: object` with `properties`; a schema may contain itself only inside a property, an array or a map",
                name(first)
            )),
        );
    }

    /// Claims the type names of an operation's request and response, so
    /// that no schema takes them; returns the prefix they share.
    pub fn claim_operation(&mut self, wanted: &str) -> String {
        let base = names::type_name(wanted);
        let prefix = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}{n}")
                }
            })
            .find(|p| {
                !self.type_names.contains(&format!("{p}Request"))
                    && !self.type_names.contains(&format!("{p}Response"))
            })
            .expect("a free name exists");
        self.type_names.claim(format!("{prefix}Request"));
        self.type_names.claim(format!("{prefix}Response"));
        prefix
    }

    pub fn component(&self, name: &str) -> Option<TypeId> {
        self.by_component.get(name).copied()
    }

    fn allocate(&mut self, wanted: &str, at: &str) -> TypeId {
        let name = self.type_names.claim(names::type_name(wanted));
        self.space.defs.push(TypeDef {
            name,
            doc: None,
            kind: TypeKind::Alias(Shape::any()),
            pointer: at.to_string(),
            example: None,
            input: None,
            input_of: None,
            newtype: false,
        });
        TypeId(self.space.defs.len() - 1)
    }

    fn define(
        &mut self,
        named: Option<TypeId>,
        hint: &str,
        at: &str,
        schema: &Schema,
        kind: TypeKind,
    ) -> TypeId {
        let id = named.unwrap_or_else(|| self.allocate(hint, at));
        self.defined.insert(id);
        let def = self.space.get_mut(id);
        def.kind = kind;
        def.doc = doc_of(schema);
        def.example = schema.schema_data.example.clone();
        id
    }

    /// The shape of a schema used at `at`; `hint` names any type it needs.
    pub fn convert(&mut self, schema: &ReferenceOr<Schema>, at: &str, hint: &str) -> Shape {
        self.convert_with(schema, at, hint, None)
    }

    /// Like [`convert`](Self::convert) for a boxed schema.
    pub fn convert_boxed(
        &mut self,
        schema: &ReferenceOr<Box<Schema>>,
        at: &str,
        hint: &str,
    ) -> Shape {
        match schema {
            ReferenceOr::Reference { reference } => self.reference(reference, at),
            ReferenceOr::Item(s) => self.convert_item(s, at, hint, None),
        }
    }

    fn convert_with(
        &mut self,
        schema: &ReferenceOr<Schema>,
        at: &str,
        hint: &str,
        named: Option<TypeId>,
    ) -> Shape {
        match schema {
            ReferenceOr::Reference { reference } => self.reference(reference, at),
            ReferenceOr::Item(s) => self.convert_item(s, at, hint, named),
        }
    }

    fn reference(&mut self, reference: &str, at: &str) -> Shape {
        match reference
            .strip_prefix(COMPONENT_PREFIX)
            .and_then(|n| self.component(n))
        {
            Some(id) => {
                let mut shape = Shape::new(Ty::Ref(id));
                // A component that allows `null` does so wherever it is used; its own type
                // stays non-optional (see `convert_components`), so this is the one `Option`.
                shape.nullable = reference
                    .strip_prefix(COMPONENT_PREFIX)
                    .and_then(|n| self.components.get(n))
                    .is_some_and(|c| matches!(c, ReferenceOr::Item(s) if s.schema_data.nullable));
                shape
            }
            None => {
                let wanted = reference.rsplit('/').next().unwrap_or(reference);
                let names: Vec<&str> = self.by_component.keys().map(String::as_str).collect();
                let help = match crate::model::hints::closest(wanted, &names).or(names.first().copied()) {
                    Some(name) => format!("reference a schema under `components.schemas`, such as `{COMPONENT_PREFIX}{name}`"),
                    None => "define the schema under `components.schemas`, then reference it as `#/components/schemas/<name>`".to_string(),
                };
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("{at}/$ref"),
                        format!("`$ref: {reference}` points to nothing"),
                    )
                    .help(help),
                );
                Shape::any()
            }
        }
    }

    /// Resolves a reference to the schema it names, following chains.
    pub fn resolve<'s>(&self, schema: &'s ReferenceOr<Schema>) -> Option<&'s Schema>
    where
        'a: 's,
    {
        let mut current = schema;
        for _ in 0..32 {
            match current {
                ReferenceOr::Item(s) => return Some(s),
                ReferenceOr::Reference { reference } => {
                    current = self
                        .components
                        .get(reference.strip_prefix(COMPONENT_PREFIX)?)?;
                }
            }
        }
        None
    }

    fn resolve_boxed<'s>(&self, schema: &'s ReferenceOr<Box<Schema>>) -> Option<&'s Schema>
    where
        'a: 's,
    {
        match schema {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => self.resolve(
                self.components
                    .get(reference.strip_prefix(COMPONENT_PREFIX)?)?,
            ),
        }
    }

    fn convert_item(&mut self, s: &Schema, at: &str, hint: &str, named: Option<TypeId>) -> Shape {
        if let Some((_, open, open_at)) = self.open.iter().find(|(p, ..)| std::ptr::eq(*p, s)) {
            return match *open {
                Some(id) => Shape::new(Ty::Ref(id)),
                None => {
                    self.diagnostics.push(
                        Diagnostic::error(open_at.clone(), "this map contains itself through `allOf`, with no named type to refer to")
                            .help("give the map a name under `components.schemas` and write `$ref: '#/components/schemas/<name>'` where it recurs"),
                    );
                    Shape::any()
                }
            };
        }
        // An inline schema's own title names it better than its position.
        let titled = s
            .schema_data
            .title
            .as_deref()
            .filter(|t| named.is_none() && !t.trim().is_empty())
            .map(names::type_name);
        let hint = titled.as_deref().unwrap_or(hint);
        let mut shape = match &s.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                let values: Vec<Value> = t
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::String(v.clone()))
                    .collect();
                let mut shape = if values.is_empty() {
                    let format = match &t.format {
                        VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                            StrFormat::DateTime
                        }
                        VariantOrUnknownOrEmpty::Item(StringFormat::Date) => StrFormat::Date,
                        VariantOrUnknownOrEmpty::Item(StringFormat::Byte) => StrFormat::Byte,
                        VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => StrFormat::Binary,
                        VariantOrUnknownOrEmpty::Item(StringFormat::Password)
                        | VariantOrUnknownOrEmpty::Empty => StrFormat::Plain,
                        VariantOrUnknownOrEmpty::Unknown(f) => StrFormat::from_format(Some(f)),
                    };
                    Shape::new(Ty::String(format))
                } else {
                    self.enumeration(values, s, at, hint, named)
                };
                if t.enumeration.iter().any(Option::is_none) {
                    shape.nullable = true;
                }
                shape.rules.min_length = t.min_length;
                shape.rules.max_length = t.max_length;
                shape.rules.pattern = t.pattern.clone();
                if let Some(p) = &t.pattern {
                    if let Err(e) = regex::Regex::new(p) {
                        let reason = e
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or_default()
                            .trim()
                            .to_string();
                        self.diagnostics.push(
                            Diagnostic::warning(format!("{at}/pattern"), format!("this pattern is not checked: Rust's regex crate cannot read it ({reason})"))
                                .help("write the pattern without look-around or back-references so that the generated service can enforce it"),
                        );
                        shape.rules.pattern = None;
                    }
                }
                shape
            }
            SchemaKind::Type(Type::Integer(t)) => {
                let values: Vec<Value> = t
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::from(*v))
                    .collect();
                let format = match &t.format {
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => {
                        IntFormat::I32
                    }
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64) => {
                        IntFormat::I64
                    }
                    VariantOrUnknownOrEmpty::Unknown(f) => IntFormat::from_format(Some(f)),
                    VariantOrUnknownOrEmpty::Empty => IntFormat::I64,
                };
                let mut shape = if values.is_empty() {
                    Shape::new(Ty::Integer(format))
                } else {
                    self.enumeration(values, s, at, hint, named)
                };
                shape.rules.minimum = t.minimum.map(|v| v as f64);
                shape.rules.maximum = t.maximum.map(|v| v as f64);
                shape.rules.exclusive_minimum = t.exclusive_minimum;
                shape.rules.exclusive_maximum = t.exclusive_maximum;
                shape.rules.multiple_of = t.multiple_of.map(|v| v as f64);
                shape
            }
            SchemaKind::Type(Type::Number(t)) => {
                let format = match &t.format {
                    VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Float) => NumFormat::F32,
                    _ => NumFormat::F64,
                };
                let mut shape = Shape::new(Ty::Number(format));
                shape.rules.enumeration = t
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::from(*v))
                    .collect();
                shape.rules.minimum = t.minimum;
                shape.rules.maximum = t.maximum;
                shape.rules.exclusive_minimum = t.exclusive_minimum;
                shape.rules.exclusive_maximum = t.exclusive_maximum;
                shape.rules.multiple_of = t.multiple_of;
                shape
            }
            SchemaKind::Type(Type::Boolean(_)) => Shape::new(Ty::Bool),
            SchemaKind::Type(Type::Array(a)) => {
                let items = match &a.items {
                    Some(items) => {
                        self.convert_boxed(items, &format!("{at}/items"), &format!("{hint}Item"))
                    }
                    None => Shape::any(),
                };
                let mut shape = Shape::new(Ty::Array(Box::new(items)));
                shape.rules.min_items = a.min_items;
                shape.rules.max_items = a.max_items;
                shape.rules.unique_items = a.unique_items;
                shape
            }
            SchemaKind::Type(Type::Object(o)) => self.object(
                s,
                &o.properties.iter().collect(),
                &o.required,
                o.additional_properties.as_ref(),
                at,
                hint,
                named,
                o.min_properties,
                o.max_properties,
            ),
            SchemaKind::OneOf { one_of } => self.union(s, one_of, true, at, hint, named, None),
            SchemaKind::AnyOf { any_of } => self.union(s, any_of, false, at, hint, named, None),
            SchemaKind::AllOf { all_of } => self.all_of(s, all_of, at, hint, named),
            SchemaKind::Not { .. } => Shape::any(),
            SchemaKind::Any(a) => {
                let union = match (a.one_of.is_empty(), a.any_of.is_empty()) {
                    (false, _) => Some((&a.one_of, true)),
                    (true, false) => Some((&a.any_of, false)),
                    (true, true) => None,
                };
                // `type: object` alone adds nothing to merge: the members say it.
                let object_like = !a.properties.is_empty()
                    || !a.all_of.is_empty()
                    || a.additional_properties.is_some();
                // `oneOf`/`anyOf` beside `properties` (or `allOf`): a value has the
                // properties *and* matches a member, so each member becomes the member
                // merged with the rest of the schema (P and (A or B) is (P and A) or
                // (P and B)). Neither the properties nor the union is lost, for serde
                // and for validation alike.
                if let Some((members, exclusive)) = union {
                    let rest = object_like.then(|| {
                        let mut rest = a.clone();
                        if exclusive {
                            rest.one_of.clear();
                        } else {
                            rest.any_of.clear();
                        }
                        Schema {
                            schema_data: Default::default(),
                            schema_kind: SchemaKind::Any(rest),
                        }
                    });
                    self.union(s, members, exclusive, at, hint, named, rest.as_ref())
                // `allOf` beside `type: object` or `properties` is common; the members are
                // merged with the schema's own properties rather than dropped.
                } else if !a.all_of.is_empty() {
                    self.all_of(s, &a.all_of, at, hint, named)
                } else if !a.properties.is_empty()
                    || a.typ.as_deref() == Some("object")
                    || a.additional_properties.is_some()
                {
                    self.object(
                        s,
                        &a.properties.iter().collect(),
                        &a.required,
                        a.additional_properties.as_ref(),
                        at,
                        hint,
                        named,
                        a.min_properties,
                        a.max_properties,
                    )
                } else if !a.one_of.is_empty() {
                    self.union(s, &a.one_of, true, at, hint, named, None)
                } else if !a.any_of.is_empty() {
                    self.union(s, &a.any_of, false, at, hint, named, None)
                } else if let Some(items) = &a.items {
                    let items =
                        self.convert_boxed(items, &format!("{at}/items"), &format!("{hint}Item"));
                    Shape::new(Ty::Array(Box::new(items)))
                } else if !a.enumeration.is_empty() {
                    let values: Vec<Value> = a
                        .enumeration
                        .iter()
                        .filter(|v| !v.is_null())
                        .cloned()
                        .collect();
                    let mut shape = if values.iter().all(|v| v.is_string())
                        || values.iter().all(Value::is_i64)
                    {
                        self.enumeration(values, s, at, hint, named)
                    } else {
                        let mut shape = Shape::any();
                        shape.rules.enumeration = values;
                        shape
                    };
                    shape.nullable = a.enumeration.iter().any(Value::is_null);
                    shape
                } else {
                    Shape::any()
                }
            }
        };
        if s.schema_data.nullable {
            shape.nullable = true;
        }
        shape
    }

    fn enumeration(
        &mut self,
        values: Vec<Value>,
        s: &Schema,
        at: &str,
        hint: &str,
        named: Option<TypeId>,
    ) -> Shape {
        // The same inline enum written twice (in a schema and in its patch
        // twin, say) is one type, so that values move between them freely.
        if named.is_none() {
            let same = self.space.ids().find(|id| {
                let def = self.space.get(*id);
                matches!(&def.kind, TypeKind::Enum(e) if e.values.iter().map(|v| &v.value).eq(values.iter()))
                    && !self.by_component.values().any(|c| c == id)
            });
            if let Some(id) = same {
                return Shape::new(Ty::Ref(id));
            }
        }
        let mut scope = Scope::default();
        let values = values
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let text = match &value {
                    Value::String(s) => s.clone(),
                    other => format!("V{other}"),
                };
                let mut ident = names::type_name(&text);
                if ident == "Unnamed" || text.chars().all(|c| !c.is_ascii_alphanumeric()) {
                    ident = format!("Value{i}");
                }
                EnumValue {
                    ident: scope.claim(ident),
                    value,
                }
            })
            .collect();
        let id = self.define(named, hint, at, s, TypeKind::Enum(EnumDef { values }));
        Shape::new(Ty::Ref(id))
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        s: &Schema,
        properties: &IndexMap<&String, &ReferenceOr<Box<Schema>>>,
        required: &[String],
        additional: Option<&AdditionalProperties>,
        at: &str,
        hint: &str,
        named: Option<TypeId>,
        min_properties: Option<usize>,
        max_properties: Option<usize>,
    ) -> Shape {
        // A record, or else a dictionary.
        let id = (!properties.is_empty() || named.is_some())
            .then(|| named.unwrap_or_else(|| self.allocate(hint, at)));
        self.open.push((s, id, at.to_string()));
        let additional_shape = match additional {
            Some(AdditionalProperties::Schema(schema)) => Some(self.convert(
                schema,
                &format!("{at}/additionalProperties"),
                &format!("{hint}Value"),
            )),
            Some(AdditionalProperties::Any(true)) => Some(Shape::any()),
            _ => None,
        };
        let shape = match id {
            None => {
                let mut shape = Shape::new(Ty::Map(Box::new(
                    additional_shape.unwrap_or_else(Shape::any),
                )));
                shape.rules.min_properties = min_properties;
                shape.rules.max_properties = max_properties;
                shape
            }
            Some(id) => {
                let parent = self.space.get(id).name.clone();
                let fields = self.fields(properties, required, at, &parent);
                let additional = match (additional, additional_shape) {
                    (Some(AdditionalProperties::Any(false)), _) => Additional::Deny,
                    (_, Some(shape)) if shape.ty != Ty::Any => Additional::Typed(Box::new(shape)),
                    _ => Additional::Allow,
                };
                self.define(
                    Some(id),
                    hint,
                    at,
                    s,
                    TypeKind::Struct(StructDef { fields, additional }),
                );
                Shape::new(Ty::Ref(id))
            }
        };
        self.open.pop();
        shape
    }

    fn fields(
        &mut self,
        properties: &IndexMap<&String, &ReferenceOr<Box<Schema>>>,
        required: &[String],
        at: &str,
        parent: &str,
    ) -> Vec<Field> {
        let mut idents = Scope::default();
        let mut fields = Vec::new();
        for (&name, &prop) in properties {
            let prop_at = format!(
                "{at}/properties/{}",
                crate::json_pointer::escape_segment(name)
            );
            let shape = self.convert_boxed(
                prop,
                &prop_at,
                &format!("{parent}{}", names::type_name(name)),
            );
            let data = self.resolve_boxed(prop).map(|p| &p.schema_data);
            // Siblings of a $ref are ignored in 3.0, but readOnly on the
            // referenced schema itself counts.
            let (read_only, write_only) = data
                .map(|d| (d.read_only, d.write_only))
                .unwrap_or_default();
            let doc = match prop {
                ReferenceOr::Item(p) => doc_of(p),
                ReferenceOr::Reference { .. } => None,
            };
            fields.push(Field {
                name: name.clone(),
                ident: idents.claim(names::field_name(name)),
                shape,
                required: required.contains(name),
                read_only,
                write_only,
                doc,
                boxed: false,
            });
        }
        fields
    }

    /// `rest`: the schema's other keywords (`properties`, `allOf`), which every
    /// member is merged with.
    #[allow(clippy::too_many_arguments)]
    fn union(
        &mut self,
        s: &Schema,
        members: &[ReferenceOr<Schema>],
        exclusive: bool,
        at: &str,
        hint: &str,
        named: Option<TypeId>,
        rest: Option<&Schema>,
    ) -> Shape {
        let key = if exclusive { "oneOf" } else { "anyOf" };
        if members.is_empty() {
            return self.empty_composition(key, at);
        }
        let merged: Vec<ReferenceOr<Schema>> = match rest {
            Some(rest) => members
                .iter()
                .map(|m| {
                    ReferenceOr::Item(Schema {
                        schema_data: Default::default(),
                        schema_kind: SchemaKind::AllOf {
                            all_of: vec![ReferenceOr::Item(rest.clone()), m.clone()],
                        },
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        let converted = if rest.is_some() { &merged[..] } else { members };
        if members.len() == 1 && named.is_none() {
            return self.convert(&converted[0], &format!("{at}/{key}/0"), hint);
        }
        let id = named.unwrap_or_else(|| self.allocate(hint, at));
        self.open.push((s, Some(id), at.to_string()));
        let parent = self.space.get(id).name.clone();
        let mut idents = Scope::default();
        let mut variants = Vec::new();
        for (i, member) in members.iter().enumerate() {
            let wanted = match member {
                ReferenceOr::Reference { reference } => {
                    names::type_name(reference.rsplit('/').next().unwrap_or("Variant"))
                }
                ReferenceOr::Item(m) => m
                    .schema_data
                    .title
                    .as_deref()
                    .map(names::type_name)
                    .unwrap_or_else(|| variant_name_for_kind(&m.schema_kind, i)),
            };
            let ident = idents.claim(wanted);
            let shape = self.convert(
                &converted[i],
                &format!("{at}/{key}/{i}"),
                &format!("{parent}{ident}"),
            );
            variants.push(UnionVariant { ident, shape });
        }
        self.open.pop();
        let discriminator = s.schema_data.discriminator.as_ref().and_then(|d| {
            let values = members
                .iter()
                .map(|m| {
                    let ReferenceOr::Reference { reference } = m else {
                        return None;
                    };
                    let mapped = d
                        .mapping
                        .iter()
                        .find(|(_, target)| *target == reference)
                        .map(|(value, _)| value.clone());
                    Some(mapped.unwrap_or_else(|| {
                        reference.rsplit('/').next().unwrap_or_default().to_string()
                    }))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Discriminator {
                property: d.property_name.clone(),
                values,
            })
        });
        self.define(
            Some(id),
            hint,
            at,
            s,
            TypeKind::Union(UnionDef {
                variants,
                exclusive,
                discriminator,
            }),
        );
        Shape::new(Ty::Ref(id))
    }

    fn all_of(
        &mut self,
        s: &Schema,
        members: &[ReferenceOr<Schema>],
        at: &str,
        hint: &str,
        named: Option<TypeId>,
    ) -> Shape {
        if members.is_empty() {
            return self.empty_composition("allOf", at);
        }
        let own = match &s.schema_kind {
            SchemaKind::Any(own)
                if !own.properties.is_empty() || own.typ.as_deref() == Some("object") =>
            {
                Some(own)
            }
            _ => None,
        };
        if members.len() == 1 && named.is_none() && own.is_none() {
            return self.convert(&members[0], &format!("{at}/allOf/0"), hint);
        }
        // Merge the members' properties into one record; a member that is
        // not an object contributes nothing but its constraints.
        let mut properties = IndexMap::new();
        let mut required = BTreeSet::new();
        let mut additional = None;
        let mut objects = 0;
        if let Some(own) = own {
            objects += 1;
            properties.extend(own.properties.iter());
            required.extend(own.required.iter().cloned());
            additional = own.additional_properties.as_ref();
        }
        for member in members {
            let Some(m) = self.resolve(member) else {
                let _ = self.convert(member, at, hint);
                continue;
            };
            // A member may refer back to this schema, or two schemas to
            // each other: each is merged once.
            let mut seen: Vec<*const Schema> = vec![s];
            let mut stack = vec![m];
            while let Some(m) = stack.pop() {
                if seen.contains(&(m as *const Schema)) {
                    continue;
                }
                seen.push(m);
                match &m.schema_kind {
                    // The members' own schemas, not copies: the type being
                    // defined is found by their addresses if they recur.
                    SchemaKind::Type(Type::Object(o)) => {
                        objects += 1;
                        properties.extend(o.properties.iter());
                        required.extend(o.required.iter().cloned());
                        if o.additional_properties.is_some() {
                            additional = o.additional_properties.as_ref();
                        }
                    }
                    SchemaKind::Any(a) => {
                        if !a.properties.is_empty() {
                            objects += 1;
                            properties.extend(a.properties.iter());
                            required.extend(a.required.iter().cloned());
                        }
                        stack.extend(a.all_of.iter().filter_map(|x| self.resolve(x)));
                    }
                    SchemaKind::AllOf { all_of } => {
                        stack.extend(all_of.iter().filter_map(|x| self.resolve(x)));
                    }
                    _ => {}
                }
            }
        }
        if objects == 0 {
            return self.convert(&members[0], &format!("{at}/allOf/0"), hint);
        }
        let required: Vec<String> = required.into_iter().collect();
        // `additionalProperties: false` on one member would reject the
        // other members' properties: only keep it as a schema.
        let additional = additional.filter(|a| !matches!(a, AdditionalProperties::Any(false)));
        self.object(
            s,
            &properties,
            &required,
            additional,
            at,
            hint,
            named,
            None,
            None,
        )
    }

    /// `allOf: []` and the like: JSON Schema wants at least one member.
    fn empty_composition(&mut self, key: &str, at: &str) -> Shape {
        self.diagnostics.push(
            Diagnostic::error(format!("{at}/{key}"), format!("`{key}` is empty"))
                .help(format!(
                    "list at least one schema, as in `{key}: [{{$ref: '#/components/schemas/Pet'}}]`, or remove `{key}`"
                )),
        );
        Shape::any()
    }
}

fn variant_name_for_kind(kind: &SchemaKind, index: usize) -> String {
    match kind {
        SchemaKind::Type(Type::String(_)) => "String".into(),
        SchemaKind::Type(Type::Integer(_)) => "Integer".into(),
        SchemaKind::Type(Type::Number(_)) => "Number".into(),
        SchemaKind::Type(Type::Boolean(_)) => "Boolean".into(),
        SchemaKind::Type(Type::Array(_)) => "Array".into(),
        SchemaKind::Type(Type::Object(_)) => "Object".into(),
        _ => format!("Variant{index}"),
    }
}

/// A doc comment from a schema's title and description.
pub fn doc_of(s: &Schema) -> Option<String> {
    let d = &s.schema_data;
    match (&d.title, &d.description) {
        (_, Some(desc)) if !desc.trim().is_empty() => Some(desc.trim().to_string()),
        (Some(title), _) if !title.trim().is_empty() => Some(title.trim().to_string()),
        _ => None,
    }
}

/// Marks struct fields that must be boxed: a field whose type can reach the
/// struct that holds it without passing through a Vec or map. Marks aliases
/// that expand to themselves as newtypes.
pub fn box_cycles(space: &mut TypeSpace) {
    for id in space.ids().collect::<Vec<_>>() {
        if let TypeKind::Alias(shape) = &space.get(id).kind {
            let recursive = alias_expands_to(space, shape, id, &mut Vec::new());
            space.get_mut(id).newtype = recursive;
        }
    }
    let edges: Vec<Vec<TypeId>> = space.defs.iter().map(direct_refs).collect();
    for id in space.ids().collect::<Vec<_>>() {
        if let TypeKind::Struct(s) = &mut space.defs[id.0].kind {
            for field in &mut s.fields {
                if let Ty::Ref(target) = field.shape.ty {
                    field.boxed = reaches(&edges, target, id);
                }
            }
        }
    }
}

/// Whether writing out `shape` (through arrays, maps and other aliases, which
/// are not types of their own) meets the alias `target` again.
fn alias_expands_to(
    space: &TypeSpace,
    shape: &Shape,
    target: TypeId,
    seen: &mut Vec<TypeId>,
) -> bool {
    match &shape.ty {
        Ty::Array(inner) | Ty::Map(inner) => alias_expands_to(space, inner, target, seen),
        Ty::Ref(id) if *id == target => true,
        Ty::Ref(id) if !seen.contains(id) => {
            seen.push(*id);
            match &space.get(*id).kind {
                TypeKind::Alias(inner) => alias_expands_to(space, inner, target, seen),
                _ => false,
            }
        }
        _ => false,
    }
}

fn direct_refs(def: &TypeDef) -> Vec<TypeId> {
    let mut out = Vec::new();
    let mut push = |shape: &Shape| {
        if let Ty::Ref(id) = shape.ty {
            out.push(id);
        }
    };
    match &def.kind {
        TypeKind::Struct(s) => s.fields.iter().for_each(|f| push(&f.shape)),
        TypeKind::Union(u) => u.variants.iter().for_each(|v| push(&v.shape)),
        TypeKind::Alias(shape) => push(shape),
        TypeKind::Enum(_) => {}
    }
    out
}

fn reaches(edges: &[Vec<TypeId>], from: TypeId, to: TypeId) -> bool {
    let mut seen = vec![false; edges.len()];
    let mut stack = vec![from];
    while let Some(id) = stack.pop() {
        if id == to {
            return true;
        }
        if std::mem::replace(&mut seen[id.0], true) {
            continue;
        }
        stack.extend(edges[id.0].iter().copied());
    }
    false
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::Api;

    /// The model of a spec with these component schemas (YAML, indented by four).
    fn api(schemas: &str) -> Api {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
        );
        let spec = crate::load::parse(Path::new("t.yaml"), text).expect("parses");
        crate::model::build(&spec, None).expect("builds")
    }

    fn def<'a>(api: &'a Api, name: &str) -> &'a crate::model::TypeDef {
        api.types
            .defs
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
    }

    #[test]
    fn aliases_that_contain_themselves_are_newtypes() {
        let api = api("    Tree: {type: array, items: {$ref: '#/components/schemas/Tree'}}\n    Ping: {type: array, items: {$ref: '#/components/schemas/Pong'}}\n    Pong: {type: array, items: {$ref: '#/components/schemas/Ping'}}\n    Names: {type: array, items: {type: string}}\n    Node: {type: object, properties: {next: {$ref: '#/components/schemas/Nodes'}}}\n    Nodes: {type: array, items: {$ref: '#/components/schemas/Node'}}\n");
        for name in ["Tree", "Ping", "Pong"] {
            assert!(def(&api, name).newtype, "{name}");
        }
        // A struct between the alias and itself is a type of its own.
        for name in ["Names", "Nodes"] {
            assert!(!def(&api, name).newtype, "{name}");
        }
    }

    #[test]
    fn one_of_beside_properties_merges_the_properties_into_every_member() {
        let api = api("    Cat: {type: object, required: [meows], properties: {meows: {type: boolean}}}\n    Pet:\n      type: object\n      required: [name]\n      properties: {name: {type: string}}\n      oneOf:\n        - $ref: '#/components/schemas/Cat'\n        - {type: object, required: [barks], properties: {barks: {type: integer}}}\n");
        let TypeKind::Union(u) = &def(&api, "Pet").kind else {
            panic!("Pet is not a union");
        };
        assert!(u.exclusive);
        for v in &u.variants {
            let (_, s) = api.types.struct_of(&v.shape).expect("an object");
            let fields: Vec<(&str, bool)> = s
                .fields
                .iter()
                .map(|f| (f.name.as_str(), f.required))
                .collect();
            assert!(fields.contains(&("name", true)), "{}: {fields:?}", v.ident);
            assert_eq!(fields.len(), 2, "{}: {fields:?}", v.ident);
        }
    }

    #[test]
    fn only_schemas_named_like_bare_prelude_items_are_numbered() {
        // Runtime, serde and derive names are written by path or live apart from types.
        let api = api("    Query: {type: object, properties: {a: {type: string}}}\n    Option: {type: string}\n    Serialize: {type: integer}\n    Debug: {type: string}\n    self: {type: string}\n    Self: {type: string}\n");
        for name in [
            "Query",
            "Option2",
            "Serialize",
            "Debug",
            "SelfType",
            "SelfType2",
        ] {
            def(&api, name);
        }
    }

    /// The converter's types (cycles boxed) and findings for these component
    /// schemas, written as a YAML mapping of name to schema.
    fn convert(schemas: &str) -> (TypeSpace, Vec<Diagnostic>) {
        let components: IndexMap<String, ReferenceOr<Schema>> =
            serde_norway::from_str(schemas).expect("schemas parse");
        let mut converter = SchemaConverter::new(&components);
        converter.convert_components();
        box_cycles(&mut converter.space);
        (converter.space, converter.diagnostics)
    }

    fn named<'a>(space: &'a TypeSpace, name: &str) -> &'a TypeDef {
        space
            .defs
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
    }

    fn alias(space: &TypeSpace, name: &str) -> Shape {
        match &named(space, name).kind {
            TypeKind::Alias(shape) => shape.clone(),
            other => panic!("{name} is not an alias: {other:?}"),
        }
    }

    fn fields<'a>(space: &'a TypeSpace, name: &str) -> &'a [Field] {
        match &named(space, name).kind {
            TypeKind::Struct(s) => &s.fields,
            other => panic!("{name} is not a struct: {other:?}"),
        }
    }

    fn field<'a>(space: &'a TypeSpace, name: &str, field: &str) -> &'a Field {
        fields(space, name)
            .iter()
            .find(|f| f.name == field)
            .unwrap_or_else(|| panic!("{name} has no field {field}"))
    }

    fn ref_name(space: &TypeSpace, shape: &Shape) -> String {
        match &shape.ty {
            Ty::Ref(id) => space.get(*id).name.clone(),
            other => panic!("not a reference: {other:?}"),
        }
    }

    #[test]
    fn string_and_integer_formats_pick_the_rust_type() {
        let (space, found) = convert(
            "Id: {type: string, format: uuid}\nAt: {type: string, format: date-time}\nZip: {type: string, format: zip}\nSmall: {type: integer, format: int32, minimum: 1, exclusiveMinimum: true}\nBig: {type: integer}\nTiny: {type: integer, format: uint8}\nRatio: {type: number, format: float}\n",
        );
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(alias(&space, "Id").ty, Ty::String(StrFormat::Uuid));
        assert_eq!(alias(&space, "At").ty, Ty::String(StrFormat::DateTime));
        assert_eq!(
            alias(&space, "Zip").ty,
            Ty::String(StrFormat::Other("zip".into()))
        );
        let small = alias(&space, "Small");
        assert_eq!(small.ty, Ty::Integer(IntFormat::I32));
        assert_eq!(
            (small.rules.minimum, small.rules.exclusive_minimum),
            (Some(1.0), true)
        );
        assert_eq!(alias(&space, "Big").ty, Ty::Integer(IntFormat::I64));
        assert_eq!(alias(&space, "Tiny").ty, Ty::Integer(IntFormat::U8));
        assert_eq!(alias(&space, "Ratio").ty, Ty::Number(NumFormat::F32));
    }

    #[test]
    fn string_enums_are_enums_with_one_variant_per_value() {
        let (space, _) = convert("Color: {type: string, enum: [red, dark-blue, '2x', '--']}\n");
        let TypeKind::Enum(e) = &named(&space, "Color").kind else {
            panic!("Color is not an enum");
        };
        let variants: Vec<(&str, &str)> = e
            .values
            .iter()
            .map(|v| (v.ident.as_str(), v.value.as_str().expect("text")))
            .collect();
        assert_eq!(
            variants,
            [
                ("Red", "red"),
                ("DarkBlue", "dark-blue"),
                ("N2x", "2x"),
                ("Value3", "--")
            ]
        );
        assert!(!e.is_integer());
    }

    #[test]
    fn an_enum_listing_null_is_a_nullable_use_of_the_enum() {
        let (space, _) = convert(
            "Pet:\n  type: object\n  properties:\n    status: {type: string, nullable: true, enum: [sold, null]}\n",
        );
        let status = field(&space, "Pet", "status");
        assert!(status.shape.nullable);
        assert_eq!(ref_name(&space, &status.shape), "PetStatus");
        let TypeKind::Enum(e) = &named(&space, "PetStatus").kind else {
            panic!("PetStatus is not an enum");
        };
        assert_eq!(e.values.len(), 1, "null is not a variant: {:?}", e.values);
    }

    #[test]
    fn the_same_inline_enum_twice_is_one_type() {
        let (space, _) = convert(
            "A: {type: object, properties: {size: {type: string, enum: [s, m]}}}\nB: {type: object, properties: {size: {type: string, enum: [s, m]}}}\n",
        );
        assert_eq!(
            field(&space, "A", "size").shape,
            field(&space, "B", "size").shape
        );
        assert!(space.defs.iter().all(|d| d.name != "BSize"));
    }

    #[test]
    fn inline_objects_are_named_after_where_they_appear_or_their_title() {
        let (space, _) = convert(
            "Order:\n  type: object\n  properties:\n    owner: {type: object, properties: {name: {type: string}}}\n    lines: {type: array, items: {type: object, properties: {sku: {type: string}}}}\n    ship: {title: shipping address, type: object, properties: {city: {type: string}}}\n",
        );
        assert_eq!(
            ref_name(&space, &field(&space, "Order", "owner").shape),
            "OrderOwner"
        );
        let Ty::Array(item) = &field(&space, "Order", "lines").shape.ty else {
            panic!("lines is not an array");
        };
        assert_eq!(ref_name(&space, item), "OrderLinesItem");
        assert_eq!(
            ref_name(&space, &field(&space, "Order", "ship").shape),
            "ShippingAddress"
        );
    }

    #[test]
    fn a_nullable_component_is_optional_where_used_but_not_in_itself() {
        let (space, _) = convert(
            "Nick: {type: string, nullable: true}\nPet: {type: object, properties: {nick: {$ref: '#/components/schemas/Nick'}}}\n",
        );
        assert!(!alias(&space, "Nick").nullable);
        let nick = &field(&space, "Pet", "nick").shape;
        assert!(nick.nullable);
        assert_eq!(ref_name(&space, nick), "Nick");
    }

    #[test]
    fn one_of_references_is_an_exclusive_union_with_discriminator_values() {
        let (space, found) = convert(
            "Cat: {type: object, properties: {kind: {type: string}}}\nDog: {type: object, properties: {kind: {type: string}}}\nPet:\n  oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]\n  discriminator: {propertyName: kind, mapping: {kitty: '#/components/schemas/Cat'}}\n",
        );
        assert!(found.is_empty(), "{found:?}");
        let TypeKind::Union(u) = &named(&space, "Pet").kind else {
            panic!("Pet is not a union");
        };
        assert!(u.exclusive);
        let variants: Vec<(&str, String)> = u
            .variants
            .iter()
            .map(|v| (v.ident.as_str(), ref_name(&space, &v.shape)))
            .collect();
        assert_eq!(variants, [("Cat", "Cat".into()), ("Dog", "Dog".into())]);
        let d = u.discriminator.as_ref().expect("a discriminator");
        assert_eq!(d.property, "kind");
        // Mapped values win; an unmapped member is tagged with its name.
        assert_eq!(d.values, ["kitty", "Dog"]);
    }

    #[test]
    fn any_of_inline_members_are_an_inclusive_union_named_by_kind() {
        let (space, _) = convert(
            "Value:\n  anyOf:\n    - {type: string}\n    - {type: integer}\n    - {type: object, properties: {a: {type: string}}}\n",
        );
        let TypeKind::Union(u) = &named(&space, "Value").kind else {
            panic!("Value is not a union");
        };
        assert!(!u.exclusive);
        assert!(u.discriminator.is_none());
        let idents: Vec<&str> = u.variants.iter().map(|v| v.ident.as_str()).collect();
        assert_eq!(idents, ["String", "Integer", "Object"]);
        assert_eq!(
            u.variants[2].shape,
            Shape::new(Ty::Ref(named_id(&space, "ValueObject")))
        );
    }

    fn named_id(space: &TypeSpace, name: &str) -> TypeId {
        space
            .ids()
            .find(|id| space.get(*id).name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
    }

    #[test]
    fn all_of_merges_the_members_properties_and_required_lists() {
        let (space, _) = convert(
            "Base: {type: object, required: [id], properties: {id: {type: string}}}\nNamed:\n  allOf:\n    - $ref: '#/components/schemas/Base'\n    - {type: object, required: [name], properties: {name: {type: string}, note: {type: string}}}\n",
        );
        let merged: Vec<(&str, bool)> = fields(&space, "Named")
            .iter()
            .map(|f| (f.name.as_str(), f.required))
            .collect();
        assert_eq!(merged, [("id", true), ("name", true), ("note", false)]);
    }

    #[test]
    fn all_of_one_reference_is_that_type_not_a_new_one() {
        let (space, _) = convert(
            "Base: {type: object, properties: {id: {type: string}}}\nPet: {type: object, properties: {base: {allOf: [{$ref: '#/components/schemas/Base'}]}}}\n",
        );
        assert_eq!(
            ref_name(&space, &field(&space, "Pet", "base").shape),
            "Base"
        );
        assert!(space.defs.iter().all(|d| d.name != "PetBase"));
    }

    #[test]
    fn additional_properties_make_maps_inline_and_rules_on_records() {
        let (space, _) = convert(
            "Bag: {type: object, properties: {counts: {type: object, additionalProperties: {type: integer}}}}\nCounts: {type: object, additionalProperties: {type: integer}}\nClosed: {type: object, additionalProperties: false, properties: {a: {type: string}}}\n",
        );
        let integer = Shape::new(Ty::Integer(IntFormat::I64));
        // Inline, an object of only additional properties is a map ...
        assert_eq!(
            field(&space, "Bag", "counts").shape.ty,
            Ty::Map(Box::new(integer.clone()))
        );
        // ... and a named one a record of them, which keeps its name.
        let additional = |name: &str| match &named(&space, name).kind {
            TypeKind::Struct(s) => (s.fields.len(), s.additional.clone()),
            _ => panic!("{name} is not a struct"),
        };
        assert_eq!(
            additional("Counts"),
            (0, Additional::Typed(Box::new(integer)))
        );
        assert_eq!(additional("Closed"), (1, Additional::Deny));
    }

    #[test]
    fn a_struct_that_contains_itself_directly_is_boxed_but_not_through_a_list() {
        let (space, _) = convert(
            "Node:\n  type: object\n  properties:\n    next: {$ref: '#/components/schemas/Node'}\n    children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n    label: {type: string}\n",
        );
        assert!(field(&space, "Node", "next").boxed);
        assert!(!field(&space, "Node", "children").boxed);
        assert!(!field(&space, "Node", "label").boxed);
    }

    #[test]
    fn read_only_on_a_referenced_schema_marks_the_field() {
        let (space, _) = convert(
            "Stamp: {type: string, format: date-time, readOnly: true}\nPet: {type: object, properties: {at: {$ref: '#/components/schemas/Stamp'}, name: {type: string, writeOnly: true}}}\n",
        );
        assert!(field(&space, "Pet", "at").read_only);
        let name = field(&space, "Pet", "name");
        assert!(!name.read_only && name.write_only);
    }

    #[test]
    fn a_reference_to_nothing_is_an_error_naming_the_closest_schema() {
        let (space, found) = convert(
            "Owner: {type: object, properties: {a: {type: string}}}\nPet: {type: object, properties: {owner: {$ref: '#/components/schemas/Ownr'}}}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert!(d.is_error());
        assert_eq!(d.pointer, "/components/schemas/Pet/properties/owner/$ref");
        assert_eq!(
            d.message,
            "`$ref: #/components/schemas/Ownr` points to nothing"
        );
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.contains("#/components/schemas/Owner")),
            "{:?}",
            d.help
        );
        assert_eq!(field(&space, "Pet", "owner").shape.ty, Ty::Any);
    }

    #[test]
    fn an_empty_composition_is_an_error_at_its_keyword() {
        let (_, found) = convert("Nothing: {allOf: []}\n");
        let messages: Vec<(&str, &str)> = found
            .iter()
            .map(|d| (d.pointer.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [("/components/schemas/Nothing/allOf", "`allOf` is empty")]
        );
    }

    #[test]
    fn components_defined_only_as_each_other_are_reported_and_cut() {
        let (space, found) =
            convert("A: {$ref: '#/components/schemas/B'}\nB: {$ref: '#/components/schemas/A'}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pointer, "/components/schemas/A/$ref");
        assert_eq!(
            found[0].message,
            "schemas `A` → `B` → `A` are defined only as each other, so they never say what a value is"
        );
        assert_eq!(alias(&space, "A").ty, Ty::Any);
    }

    #[test]
    fn a_pattern_rust_cannot_read_is_dropped_with_a_warning() {
        let (space, found) = convert("Code: {type: string, pattern: '^(?=a)b$'}\nPlain: {type: string, pattern: '^[a-z]+$'}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].is_error());
        assert_eq!(found[0].pointer, "/components/schemas/Code/pattern");
        assert_eq!(alias(&space, "Code").rules.pattern, None);
        assert_eq!(
            alias(&space, "Plain").rules.pattern.as_deref(),
            Some("^[a-z]+$")
        );
    }
}
