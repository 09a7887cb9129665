//! Reading a stored item as its entity type, straight from the SDK's attribute values.
//!
//! `serde_dynamo::from_item` first copies the item into its own attribute type, converting
//! every value and hashing every name again; on a page of items that cost more than reading
//! them. This deserializer reads the item where it is, by reference (the memory store shares
//! its items rather than copying them), and copies only the values the entity keeps. It
//! reads the shapes JSON has (S, N, BOOL, NULL, M, L), which is everything the store writes;
//! anything else (binary, sets) and every shape a type does not expect go to serde_dynamo's own
//! deserializer, so that what reads and what fails to read is exactly what it would be there.
//! That holds for entities whose type reads a map (a struct, a map, an internally tagged or
//! untagged enum: every entity apigen generates is a struct); the item is read as a map
//! whatever the type asks for, where serde_dynamo would also take a newtype or an `Option`.

use std::collections::hash_map;
use std::slice;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::item::Item;

type Error = serde_dynamo::Error;

/// `item` as a `T`.
pub(super) fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, Error> {
    T::deserialize(de::value::MapAccessDeserializer::new(Map::new(item)))
}

/// One attribute value, read by reference.
struct Value<'a>(&'a AttributeValue);

impl Value<'_> {
    /// serde_dynamo's deserializer for this value: for the shapes read here only where a type
    /// expects something else, so its error is the one the caller sees.
    fn dynamo(self) -> serde_dynamo::Deserializer {
        serde_dynamo::Deserializer::from_attribute_value(self.0.clone().into())
    }
}

/// A number method: parses `N` as the type asked for, else hands over.
macro_rules! number {
    ($($method:ident: $ty:ty => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.0 {
                    AttributeValue::N(n) => match n.parse::<$ty>() {
                        Ok(number) => visitor.$visit(number),
                        Err(e) => Err(de::Error::custom(format!("`{n}` is not {}: {e}", stringify!($ty)))),
                    },
                    other => Value(other).dynamo().$method(visitor),
                }
            }
        )*
    };
}

/// Methods whose shapes are rare in stored items: serde_dynamo reads them.
macro_rules! handed_over {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.dynamo().$method(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::S(s) => visitor.visit_str(s),
            AttributeValue::Bool(b) => visitor.visit_bool(*b),
            AttributeValue::M(m) => visitor.visit_map(Map::new(m)),
            AttributeValue::L(l) => visitor.visit_seq(Seq(l.iter())),
            // Numbers (as serde_dynamo reads them: the narrowest of i64, u64 and f64), NULL
            // (unit, or `None` where an option is asked for) and the rest.
            other => Value(other).dynamo().deserialize_any(visitor),
        }
    }

    number! {
        deserialize_i8: i8 => visit_i8,
        deserialize_i16: i16 => visit_i16,
        deserialize_i32: i32 => visit_i32,
        deserialize_i64: i64 => visit_i64,
        deserialize_u8: u8 => visit_u8,
        deserialize_u16: u16 => visit_u16,
        deserialize_u32: u32 => visit_u32,
        deserialize_u64: u64 => visit_u64,
        deserialize_f32: f32 => visit_f32,
        deserialize_f64: f64 => visit_f64,
    }

    handed_over! {
        deserialize_char,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::Bool(b) => visitor.visit_bool(*b),
            other => Value(other).dynamo().deserialize_bool(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::S(s) => visitor.visit_str(s),
            other => Value(other).dynamo().deserialize_string(visitor),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::Null(true) => visitor.visit_none(),
            other => visitor.visit_some(Value(other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.dynamo().deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::L(l) => visitor.visit_seq(Seq(l.iter())),
            other => Value(other).dynamo().deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.dynamo().deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.dynamo().deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::M(m) => visitor.visit_map(Map::new(m)),
            other => Value(other).dynamo().deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::M(m) => visitor.visit_map(Map::new(m)),
            other => Value(other)
                .dynamo()
                .deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            AttributeValue::S(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Value(other)
                .dynamo()
                .deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // An attribute no field reads (the key and type attributes): nothing to look at.
        visitor.visit_unit()
    }
}

/// The attributes of an `M`, each name then its value.
struct Map<'a> {
    entries: hash_map::Iter<'a, String, AttributeValue>,
    value: Option<&'a AttributeValue>,
}

impl<'a> Map<'a> {
    fn new(map: &'a Item) -> Self {
        Self {
            entries: map.iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Map<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((name, value)) => {
                self.value = Some(value);
                seed.deserialize(name.as_str().into_deserializer())
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Value(value)),
            None => Err(de::Error::custom("a value was asked for before its name")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The values of an `L`.
struct Seq<'a>(slice::Iter<'a, AttributeValue>);

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|value| seed.deserialize(Value(value)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Product {
        product_id: uuid::Uuid,
        name: String,
        price: f64,
        stock: i32,
        big: u64,
        small: Option<i8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Option<String>>,
        tags: Vec<String>,
        kind: Kind,
        dims: Dims,
        labels: BTreeMap<String, String>,
        any: serde_json::Value,
        either: Either,
        id: Wrapper,
        created: chrono::DateTime<chrono::Utc>,
        on: bool,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Tool,
        Toy,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Dims {
        w: f32,
        h: u16,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
        Dims(Dims),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrapper(String);

    fn stored(value: serde_json::Value) -> Item {
        serde_dynamo::to_item(value).expect("an item")
    }

    fn product() -> serde_json::Value {
        json!({
            "productId": "6f1c1f62-2b5e-4b8a-9d8e-0a4b3c2d1e0f",
            "name": "Espresso machine", "price": 249.5, "stock": -3, "big": u64::MAX,
            "small": null, "note": null, "tags": ["a", "b"], "kind": "toy",
            "dims": {"w": 1.5, "h": 7}, "labels": {"x": "y"},
            "any": {"n": 1, "f": 0.5, "l": [true, null, "s"]},
            "either": {"w": 2.0, "h": 3}, "id": "w-1",
            "created": "2026-12-03T10:00:00.000Z", "on": true,
            "PK": "CATEGORY#x", "SK": "PRODUCT#y", "type": "Product"
        })
    }

    #[test]
    fn reads_what_serde_dynamo_reads() {
        let ours: Product = from_item(&stored(product())).expect("read");
        let theirs: Product = serde_dynamo::from_item(stored(product())).expect("read");
        assert_eq!(ours, theirs);
        assert_eq!(ours.stock, -3);
        assert_eq!(ours.big, u64::MAX);
        assert_eq!(ours.note, None);
        assert_eq!(ours.either, Either::Dims(Dims { w: 2.0, h: 3 }));
        assert_eq!(ours.any, json!({"n": 1, "f": 0.5, "l": [true, null, "s"]}));
        // As JSON: what `fields_of` and untyped reads see.
        let value: serde_json::Value = from_item(&stored(product())).expect("read");
        let expected: serde_json::Value = serde_dynamo::from_item(stored(product())).expect("read");
        assert_eq!(value, expected);
    }

    #[test]
    fn a_mismatched_item_fails_as_it_would_with_serde_dynamo() {
        for (field, wrong) in [
            ("stock", json!("many")),
            ("stock", json!(1.5)),
            ("stock", json!(4_000_000_000_u64)),
            ("name", json!(3)),
            ("kind", json!("boat")),
            ("tags", json!({"a": 1})),
            ("on", json!("yes")),
        ] {
            let mut value = product();
            value[field] = wrong.clone();
            let ours = from_item::<Product>(&stored(value.clone()));
            let theirs = serde_dynamo::from_item::<_, Product>(stored(value));
            assert!(ours.is_err(), "{field} = {wrong} was read");
            assert!(theirs.is_err(), "{field} = {wrong}");
        }
        // serde reads a struct from a list of its fields in order, in both.
        let mut value = product();
        value["dims"] = json!([1, 2]);
        let ours: Product = from_item(&stored(value.clone())).expect("read");
        let theirs: Product = serde_dynamo::from_item(stored(value)).expect("read");
        assert_eq!(ours, theirs);
        let mut missing = product();
        missing.as_object_mut().expect("an object").remove("name");
        assert!(from_item::<Product>(&stored(missing)).is_err());
    }

    #[test]
    fn sets_are_read_by_serde_dynamo() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Sets {
            names: Vec<String>,
            numbers: Vec<i32>,
        }
        let item: Item = HashMap::from([
            (
                "names".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "numbers".to_owned(),
                AttributeValue::Ns(vec!["1".into(), "2".into()]),
            ),
        ]);
        let sets: Sets = from_item(&item).expect("read");
        assert_eq!(sets.names, ["a", "b"]);
        assert_eq!(sets.numbers, [1, 2]);
    }
}
