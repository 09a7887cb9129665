//! The spec's own examples: every `example` and `examples` value written where apigen
//! generates a type, so the project can test that each survives a trip through it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::operations::{Media, Operation, Status};
use super::types::{Shape, Ty, TypeId, TypeKind, TypeSpace};
use crate::diagnostic::escape_segment;

/// One example value and the type it must fit.
#[derive(Debug, Clone)]
pub struct SpecExample {
    /// Where the value is written, `$ref`s followed.
    pub pointer: String,
    /// What it exemplifies: `Pet`, `Pet name`, `addPet request`, `getPet 200`.
    pub subject: String,
    pub shape: Shape,
    /// A request body, read by the service into the type without read-only fields.
    pub request: bool,
    pub value: Value,
}

/// Every example with a type to go through, each once, in spec order: types first, then
/// operations.
pub fn collect(raw: &Value, types: &TypeSpace, operations: &[Operation]) -> Vec<SpecExample> {
    let mut found = Found {
        raw,
        seen: BTreeSet::new(),
        out: Vec::new(),
    };
    for (index, def) in types.defs.iter().enumerate() {
        // A read-only-free twin shares its original's schema, and so its examples.
        if def.input_of.is_some() {
            continue;
        }
        let shape = Shape::new(Ty::Ref(TypeId(index)));
        found.schema(&def.pointer, &def.name, &shape);
        if let TypeKind::Struct(s) = &def.kind {
            for field in &s.fields {
                // A field of a generated type is covered by that type's own examples.
                if matches!(field.shape.ty, Ty::Ref(_)) {
                    continue;
                }
                if let Some(at) = found.property(&def.pointer, &field.name) {
                    found.schema(&at, &format!("{} {}", def.name, field.name), &field.shape);
                }
            }
        }
    }
    for op in operations {
        for param in &op.params {
            let subject = format!("{} {}", op.id, param.name);
            if let Some((at, _)) = found.resolve(&param.pointer) {
                found.media(&at, &subject, &param.shape, false);
            }
        }
        if let Some(body) = &op.body {
            if let Media::Json(shape) = &body.media {
                let at = format!("{}/requestBody", op.pointer);
                if let Some((at, _)) = found.resolve(&at) {
                    let at = format!("{at}/content/{}", escape_segment(&body.content_type));
                    found.media(&at, &format!("{} request", op.id), shape, true);
                }
            }
        }
        for response in &op.responses {
            let (Some(Media::Json(shape)), Some(content_type)) =
                (&response.media, &response.content_type)
            else {
                continue;
            };
            let Some(key) = found.status_key(&op.pointer, response.status) else {
                continue;
            };
            let at = format!("{}/responses/{}", op.pointer, escape_segment(&key));
            if let Some((at, _)) = found.resolve(&at) {
                let at = format!("{at}/content/{}", escape_segment(content_type));
                found.media(&at, &format!("{} {key}", op.id), shape, false);
            }
        }
    }
    found.out
}

struct Found<'a> {
    raw: &'a Value,
    seen: BTreeSet<String>,
    out: Vec<SpecExample>,
}

impl<'a> Found<'a> {
    /// The node at `pointer`, following local `$ref`s, with the pointer it was found at.
    fn resolve(&self, pointer: &str) -> Option<(String, &'a Value)> {
        let mut at = pointer.to_string();
        // A cycle of `$ref`s would never end; real chains are one or two long.
        for _ in 0..8 {
            let node = self.raw.pointer(&at)?;
            match node.get("$ref").and_then(Value::as_str) {
                Some(target) => at = target.strip_prefix('#')?.to_string(),
                None => return Some((at, node)),
            }
        }
        None
    }

    fn add(&mut self, pointer: String, subject: &str, shape: &Shape, request: bool, value: &Value) {
        if self.seen.insert(pointer.clone()) {
            self.out.push(SpecExample {
                pointer,
                subject: subject.to_string(),
                shape: shape.clone(),
                request,
                value: value.clone(),
            });
        }
    }

    /// A schema's `example`, and its `examples` list (JSON Schema, OpenAPI 3.1).
    fn schema(&mut self, pointer: &str, subject: &str, shape: &Shape) {
        let Some((at, node)) = self.resolve(pointer) else {
            return;
        };
        if let Some(value) = node.get("example") {
            self.add(format!("{at}/example"), subject, shape, false, value);
        }
        if let Some(Value::Array(values)) = node.get("examples") {
            for (i, value) in values.iter().enumerate() {
                self.add(format!("{at}/examples/{i}"), subject, shape, false, value);
            }
        }
    }

    /// A media type's or parameter's `example`, and its named `examples`, each of which may
    /// be a `$ref` to `components/examples`; an `externalValue` is not fetched.
    fn media(&mut self, pointer: &str, subject: &str, shape: &Shape, request: bool) {
        let Some((at, node)) = self.resolve(pointer) else {
            return;
        };
        if let Some(value) = node.get("example") {
            self.add(format!("{at}/example"), subject, shape, request, value);
        }
        if let Some(Value::Object(named)) = node.get("examples") {
            for name in named.keys() {
                let Some((example_at, example)) =
                    self.resolve(&format!("{at}/examples/{}", escape_segment(name)))
                else {
                    continue;
                };
                if let Some(value) = example.get("value") {
                    self.add(format!("{example_at}/value"), subject, shape, request, value);
                }
            }
        }
        self.schema(&format!("{at}/schema"), subject, shape);
    }

    /// Where a property of the object at `pointer` is declared: among its own `properties`,
    /// or those of an `allOf` member.
    fn property(&self, pointer: &str, name: &str) -> Option<String> {
        let (at, node) = self.resolve(pointer)?;
        let segment = escape_segment(name);
        if node.get("properties").and_then(|p| p.get(name)).is_some() {
            return Some(format!("{at}/properties/{segment}"));
        }
        let members = node.get("allOf").and_then(Value::as_array)?;
        (0..members.len()).find_map(|i| self.property(&format!("{at}/allOf/{i}"), name))
    }

    /// The key a response is written under: `200`, `2XX` or `default`.
    fn status_key(&self, operation: &str, status: Status) -> Option<String> {
        let (_, responses) = self.resolve(&format!("{operation}/responses"))?;
        responses.as_object()?.keys().find_map(|key| {
            let matches = match status {
                Status::Code(code) => key.parse::<u16>() == Ok(code),
                Status::Range(digit) => key.eq_ignore_ascii_case(&format!("{digit}XX")),
                Status::Default => key == "default",
            };
            matches.then(|| key.clone())
        })
    }
}
