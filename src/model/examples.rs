//! The spec's own examples: every `example` and `examples` value written where apigen
//! generates a type, so the project can test that each survives a trip through it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::operations::{Media, Operation, Status};
use super::types::{Shape, StrFormat, Ty, TypeId, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;
use crate::json_pointer::escape_segment;

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
    /// Why the value cannot go through its type unchanged; such an example gets a warning
    /// instead of a test.
    pub misfit: Option<Misfit>,
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
            if let Some(shape) = body.media.typed() {
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
    for example in &mut found.out {
        example.misfit = fits(types, &example.shape, &example.value, example.request).err();
    }
    found.out
}

/// A warning for each example that cannot go through its type unchanged.
pub fn warnings(examples: &[SpecExample]) -> impl Iterator<Item = Diagnostic> + '_ {
    examples.iter().filter_map(|example| {
        let misfit = example.misfit.as_ref()?;
        let effect = if misfit.refused {
            "is refused by its type"
        } else {
            "would not come back whole from its type"
        };
        Some(
            Diagnostic::warning(
                format!("{}{}", example.pointer, misfit.at),
                format!("this example of {} {effect}: {}", example.subject, misfit.reason),
            )
            .help("correct the example or the schema; the project's example test leaves it out until then"),
        )
    })
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
                misfit: None,
            });
        }
    }

    /// A schema's `example`, and its `examples` list (JSON Schema, OpenAPI 3.1).
    fn schema(&mut self, pointer: &str, subject: &str, shape: &Shape) {
        let Some((at, node)) = self.resolve(pointer) else {
            return;
        };
        let listed = node.get("examples").and_then(Value::as_array);
        if let Some(value) = node.get("example") {
            // Loading a 3.1 schema copies the first of its `examples` into `example`.
            if listed.and_then(|l| l.first()) != Some(value) {
                self.add(format!("{at}/example"), subject, shape, false, value);
            }
        }
        if let Some(values) = listed {
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
                    self.add(
                        format!("{example_at}/value"),
                        subject,
                        shape,
                        request,
                        value,
                    );
                }
            }
        }
        self.schema(&format!("{at}/schema"), subject, shape);
    }

    /// Where a property of the object at `pointer` is declared: among its own `properties`,
    /// or those of an `allOf` member.
    fn property(&self, pointer: &str, name: &str) -> Option<String> {
        // A schema may list itself in its own `allOf`; each is looked into once.
        let mut seen = BTreeSet::new();
        let mut stack = vec![pointer.to_string()];
        while let Some(pointer) = stack.pop() {
            let Some((at, node)) = self.resolve(&pointer) else {
                continue;
            };
            if !seen.insert(at.clone()) {
                continue;
            }
            if node.get("properties").and_then(|p| p.get(name)).is_some() {
                return Some(format!("{at}/properties/{}", escape_segment(name)));
            }
            if let Some(members) = node.get("allOf").and_then(Value::as_array) {
                stack.extend((0..members.len()).rev().map(|i| format!("{at}/allOf/{i}")));
            }
        }
        None
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

/// Why an example cannot go through its type unchanged, and where in the example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// A JSON pointer into the example; empty for the whole value.
    pub at: String,
    pub reason: String,
    /// Deserializing fails, as opposed to succeeding and losing part of the value.
    pub refused: bool,
}

/// `Ok(None)`: the value fits; `Ok(Some)`: it is read, but comes back changed; `Err`: it is
/// refused.
type Verdict = Result<Option<Misfit>, Misfit>;

/// Checks `value` as the generated serde types would read and write it. `request` reads
/// objects into their read-only-free twins, as the service does with request bodies.
pub fn fits(types: &TypeSpace, shape: &Shape, value: &Value, request: bool) -> Result<(), Misfit> {
    match (Checker { types, request }).shape(shape, value, "") {
        Ok(None) => Ok(()),
        Ok(Some(misfit)) | Err(misfit) => Err(misfit),
    }
}

struct Checker<'a> {
    types: &'a TypeSpace,
    request: bool,
}

fn refused(at: &str, reason: impl Into<String>) -> Verdict {
    Err(Misfit {
        at: at.to_string(),
        reason: reason.into(),
        refused: true,
    })
}

fn changed(at: &str, reason: impl Into<String>) -> Option<Misfit> {
    Some(Misfit {
        at: at.to_string(),
        reason: reason.into(),
        refused: false,
    })
}

impl Checker<'_> {
    fn shape(&self, shape: &Shape, value: &Value, at: &str) -> Verdict {
        if value.is_null() && (shape.nullable || shape.ty == Ty::Any) {
            return Ok(None);
        }
        match &shape.ty {
            Ty::Any => Ok(None),
            Ty::Bool if value.is_boolean() => Ok(None),
            Ty::Bool => refused(at, format!("expected a boolean, found {}", kind(value))),
            Ty::Integer(format) => {
                let n = value
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| value.as_u64().map(i128::from));
                match n {
                    Some(n) if format.holds(n) => Ok(None),
                    Some(n) => refused(at, format!("{n} is out of range for `{}`", format.rust())),
                    None => refused(at, format!("expected an integer, found {}", kind(value))),
                }
            }
            Ty::Number(_) if value.is_number() => Ok(None),
            Ty::Number(_) => refused(at, format!("expected a number, found {}", kind(value))),
            Ty::String(format) => match value.as_str() {
                Some(text) => string(format, text, at),
                None => refused(at, format!("expected a string, found {}", kind(value))),
            },
            Ty::Array(items) => match value.as_array() {
                Some(values) => all(values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.shape(items, v, &format!("{at}/{i}")))),
                None => refused(at, format!("expected an array, found {}", kind(value))),
            },
            Ty::Map(values) => match value.as_object() {
                Some(map) => all(map
                    .iter()
                    .map(|(k, v)| self.shape(values, v, &format!("{at}/{}", escape_segment(k))))),
                None => refused(at, format!("expected an object, found {}", kind(value))),
            },
            Ty::Ref(id) => self.definition(*id, value, at),
        }
    }

    fn definition(&self, id: TypeId, value: &Value, at: &str) -> Verdict {
        let mut def = self.types.get(id);
        if self.request {
            if let Some(twin) = def.input {
                def = self.types.get(twin);
            }
        }
        match &def.kind {
            TypeKind::Alias(shape) => self.shape(shape, value, at),
            TypeKind::Enum(e) if e.values.iter().any(|v| v.value == *value) => Ok(None),
            TypeKind::Enum(_) => refused(at, format!("{value} is not a value of `{}`", def.name)),
            TypeKind::Struct(s) => {
                let Some(object) = value.as_object() else {
                    return refused(at, format!("expected an object, found {}", kind(value)));
                };
                let mut verdicts = Vec::new();
                for field in &s.fields {
                    let field_at = format!("{at}/{}", escape_segment(&field.name));
                    match object.get(&field.name) {
                        // serde reads a missing `Option` as `None`.
                        None if field.required && !field.shape.nullable => {
                            return refused(&field_at, format!("`{}` requires it", def.name));
                        }
                        None => {}
                        Some(Value::Null) if !field.required => {}
                        Some(v) => verdicts.push(self.shape(&field.shape, v, &field_at)),
                    }
                }
                for (key, v) in object {
                    if s.fields.iter().any(|f| f.name == *key) {
                        continue;
                    }
                    let key_at = format!("{at}/{}", escape_segment(key));
                    verdicts.push(match &s.additional {
                        super::types::Additional::Typed(values) => self.shape(values, v, &key_at),
                        _ if def.input_of.is_some() => Ok(changed(
                            &key_at,
                            format!("`{key}` is read-only, so `{}` leaves it out", def.name),
                        )),
                        _ => Ok(changed(
                            &key_at,
                            format!("`{}` declares no `{key}`, so it is dropped", def.name),
                        )),
                    });
                }
                all(verdicts.into_iter())
            }
            TypeKind::Union(u) => match &u.discriminator {
                Some(d) => {
                    let tag = value.get(&d.property).and_then(Value::as_str);
                    match u
                        .variants
                        .iter()
                        .zip(&d.values)
                        .find(|(_, t)| Some(t.as_str()) == tag)
                    {
                        Some((variant, _)) => self.shape(&variant.shape, value, at),
                        None => refused(
                            at,
                            format!(
                                "{:?} is not a known `{}`",
                                tag.unwrap_or_default(),
                                d.property
                            ),
                        ),
                    }
                }
                // Untagged: serde takes the first variant that reads the value at all.
                None => u
                    .variants
                    .iter()
                    .map(|variant| self.shape(&variant.shape, value, at))
                    .find(Result::is_ok)
                    .unwrap_or_else(|| {
                        refused(at, format!("no variant of `{}` reads it", def.name))
                    }),
            },
        }
    }
}

/// A value is refused if any part is, and otherwise changed where its first part is.
fn all(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let mut first_change = None;
    for verdict in verdicts {
        if let Some(change) = verdict? {
            first_change.get_or_insert(change);
        }
    }
    Ok(first_change)
}

fn string(format: &StrFormat, text: &str, at: &str) -> Verdict {
    let (ok, name) = match format {
        StrFormat::DateTime => (
            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "an RFC 3339 date-time",
        ),
        StrFormat::Date => (
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "a date (YYYY-MM-DD)",
        ),
        StrFormat::Uuid => (is_uuid(text), "a UUID"),
        _ => (true, ""),
    };
    if ok {
        Ok(None)
    } else {
        refused(at, format!("{text:?} is not {name}"))
    }
}

/// The spellings the `uuid` crate reads: hyphenated, simple, braced and URN.
fn is_uuid(text: &str) -> bool {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    (lengths == [32] || lengths == [8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The examples of a spec whose one schema, `Thing`, is `schema`.
    fn examples(schema: &str, extra: &str) -> Vec<SpecExample> {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /things:\n    post:\n      operationId: addThing\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/Thing'}}\n      responses:\n        '204': {{description: done}}\ncomponents:\n  schemas:\n    Thing: {schema}\n{extra}"
        );
        let spec = crate::load::parse(Path::new("t.yaml"), text).expect("parses");
        crate::model::build(&spec, None).expect("builds").examples
    }

    fn misfits(schema: &str) -> Vec<(String, bool)> {
        examples(schema, "")
            .into_iter()
            .filter_map(|e| {
                e.misfit
                    .map(|m| (format!("{}{}", e.pointer, m.at), m.refused))
            })
            .collect()
    }

    #[test]
    fn a_fitting_example_has_no_misfit() {
        let found = examples(
            "{type: object, required: [id], properties: {id: {type: integer, example: 7}, at: {type: string, format: date-time}}, example: {id: 1, at: '2024-01-01T10:00:00+02:00'}}",
            "",
        );
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|e| e.misfit.is_none()), "{found:?}");
    }

    #[test]
    fn refusals_and_losses_are_told_apart() {
        let object = "{type: object, required: [id], properties: {id: {type: integer, format: int32}, tag: {type: string, format: uuid}}, example: EXAMPLE}";
        let at = "/components/schemas/Thing/example";
        for (example, pointer, refused) in [
            (
                "{tag: 0d8c6a3e-0a4e-4c8e-9b0a-3f5c1e2d4b6a}",
                format!("{at}/id"),
                true,
            ),
            ("{id: 1.5}", format!("{at}/id"), true),
            ("{id: 4294967296}", format!("{at}/id"), true),
            ("{id: 1, tag: not-a-uuid}", format!("{at}/tag"), true),
            ("{id: 1, colour: red}", format!("{at}/colour"), false),
        ] {
            assert_eq!(
                misfits(&object.replace("EXAMPLE", example)),
                [(pointer, refused)],
                "{example}"
            );
        }
    }

    #[test]
    fn a_request_example_with_a_read_only_field_is_a_loss() {
        let request = "{type: object, properties: {id: {type: string, readOnly: true}, name: {type: string}}}";
        let text = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /things:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/Thing'}}\n            example: {{id: x, name: y}}\n      responses:\n        '204': {{description: done}}\ncomponents:\n  schemas:\n    Thing: {request}\n"
        );
        let spec = crate::load::parse(Path::new("t.yaml"), text).expect("parses");
        let found = crate::model::build(&spec, None).expect("builds").examples;
        let misfit = found[0].misfit.as_ref().expect("a misfit");
        assert_eq!((misfit.at.as_str(), misfit.refused), ("/id", false));
        assert!(misfit.reason.contains("read-only"), "{}", misfit.reason);
    }

    #[test]
    fn an_untagged_union_reads_into_its_first_variant_that_accepts() {
        let schema = "{oneOf: [{type: object, properties: {a: {type: string}}}, {type: object, properties: {a: {type: string}, b: {type: string}}}], example: {a: x, b: y}}";
        // serde takes the first variant, which has no `b`.
        assert_eq!(
            misfits(schema),
            [("/components/schemas/Thing/example/b".to_string(), false)]
        );
    }

    #[test]
    fn a_nullable_component_is_optional_where_it_is_used() {
        let found = examples(
            "{type: object, required: [owner], properties: {owner: {$ref: '#/components/schemas/User'}}, example: {owner: null}}",
            "    User: {type: object, nullable: true, properties: {login: {type: string}}}\n",
        );
        assert!(found[0].misfit.is_none(), "{found:?}");
    }

    #[test]
    fn uuids_are_read_in_every_spelling_the_crate_reads() {
        assert!(is_uuid("0d8c6a3e-0a4e-4c8e-9b0a-3f5c1e2d4b6a"));
        assert!(is_uuid("0D8C6A3E0A4E4C8E9B0A3F5C1E2D4B6A"));
        assert!(is_uuid("urn:uuid:0d8c6a3e-0a4e-4c8e-9b0a-3f5c1e2d4b6a"));
        assert!(!is_uuid("4f4e4e1-c824-4d63-b37a-d8d698862f1d"));
    }
}
