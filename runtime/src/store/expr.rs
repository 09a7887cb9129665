//! DynamoDB expressions built from placeholders only: names `#n0`…, values `:v0`…, never data.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::backend::{Action, Actions, Cond, KeyCondition};
use super::filter::{FilterOp, Test};
use super::keys::{Comparison, SortCondition};

/// The placeholders of one request's expressions.
#[derive(Debug, Default)]
pub(super) struct Placeholders {
    names: Vec<String>,
    values: Vec<AttributeValue>,
}

/// ExpressionAttributeNames and ExpressionAttributeValues; `None` when empty, which DynamoDB
/// requires (it refuses empty maps).
pub(super) type Maps = (
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

impl Placeholders {
    /// The placeholder of an attribute name; the same name gets the same placeholder, because
    /// DynamoDB refuses names that no expression uses.
    pub(super) fn name(&mut self, name: &str) -> String {
        let index = match self.names.iter().position(|n| n == name) {
            Some(index) => index,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        };
        format!("#n{index}")
    }

    /// The placeholder of a value.
    pub(super) fn value(&mut self, value: AttributeValue) -> String {
        self.values.push(value);
        format!(":v{}", self.values.len() - 1)
    }

    pub(super) fn into_maps(self) -> Maps {
        let names: HashMap<String, String> = self
            .names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (format!("#n{i}"), n))
            .collect();
        let values: HashMap<String, AttributeValue> = self
            .values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!(":v{i}"), v))
            .collect();
        (
            (!names.is_empty()).then_some(names),
            (!values.is_empty()).then_some(values),
        )
    }
}

/// A ConditionExpression ANDing `conds`; `None` when there are none.
pub(super) fn condition(conds: &[Cond], p: &mut Placeholders) -> Option<String> {
    let parts: Vec<String> = conds
        .iter()
        .map(|cond| match cond {
            Cond::NotExists(name) => format!("attribute_not_exists({})", p.name(name)),
            Cond::Equals(name, value) => format!("{} = {}", p.name(name), p.value(value.clone())),
            Cond::AbsentOrType(name, kind) => {
                let n = p.name(name);
                let kind = p.value(AttributeValue::S((*kind).to_string()));
                format!("(attribute_not_exists({n}) OR attribute_type({n}, {kind}))")
            }
            Cond::In(name, values) => {
                let values: Vec<String> = values.iter().map(|v| p.value(v.clone())).collect();
                format!("{} IN ({})", p.name(name), values.join(", "))
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// An UpdateExpression: `SET a = :v, n = if_not_exists(n, :zero) + :one REMOVE b`; `None` when
/// there is nothing to do.
pub(super) fn update(actions: &Actions, p: &mut Placeholders) -> Option<String> {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for (name, action) in actions {
        let n = p.name(name);
        match action {
            Action::Set(value) => set.push(format!("{n} = {}", p.value(value.clone()))),
            Action::Remove => remove.push(n),
            Action::Increment | Action::Add(_) => {
                let amount = match action {
                    Action::Add(amount) => *amount,
                    _ => 1,
                };
                let zero = p.value(AttributeValue::N("0".into()));
                let amount = p.value(AttributeValue::N(amount.to_string()));
                set.push(format!("{n} = if_not_exists({n}, {zero}) + {amount}"));
            }
            Action::Append(values) => {
                let empty = p.value(AttributeValue::L(Vec::new()));
                let values = p.value(AttributeValue::L(values.clone()));
                set.push(format!(
                    "{n} = list_append(if_not_exists({n}, {empty}), {values})"
                ));
            }
        }
    }
    let mut clauses = Vec::new();
    if !set.is_empty() {
        clauses.push(format!("SET {}", set.join(", ")));
    }
    if !remove.is_empty() {
        clauses.push(format!("REMOVE {}", remove.join(", ")));
    }
    (!clauses.is_empty()).then(|| clauses.join(" "))
}

/// A KeyConditionExpression.
pub(super) fn key_condition(cond: &KeyCondition, p: &mut Placeholders) -> String {
    let (pk_name, pk_value) = &cond.pk;
    let pk = format!("{} = {}", p.name(pk_name), p.value(pk_value.clone()));
    let Some((sk_name, sort)) = &cond.sk else {
        return pk;
    };
    let n = p.name(sk_name);
    let sk = match sort {
        SortCondition::BeginsWith(prefix) => {
            format!("begins_with({n}, {})", p.value(prefix.clone()))
        }
        SortCondition::Between(low, high) => {
            format!(
                "{n} BETWEEN {} AND {}",
                p.value(low.clone()),
                p.value(high.clone())
            )
        }
        SortCondition::Compare(op, value) => {
            let op = match op {
                Comparison::Gt => ">",
                Comparison::Gte => ">=",
                Comparison::Lt => "<",
                Comparison::Lte => "<=",
            };
            format!("{n} {op} {}", p.value(value.clone()))
        }
    };
    format!("{pk} AND {sk}")
}

/// A FilterExpression ANDing `tests`; `None` when there are none.
pub(super) fn filter(tests: &[Test], p: &mut Placeholders) -> Option<String> {
    let parts: Vec<String> = tests
        .iter()
        .map(|test| {
            let n = p.name(&test.name);
            let mut values = test.values.iter().map(|v| p.value(v.clone()));
            let mut one = || values.next().unwrap_or_default();
            match test.op {
                FilterOp::Eq => format!("{n} = {}", one()),
                // Spelled out so that an item without the field passes on every backend.
                FilterOp::Ne => format!("(attribute_not_exists({n}) OR {n} <> {})", one()),
                FilterOp::Lt => format!("{n} < {}", one()),
                FilterOp::Lte => format!("{n} <= {}", one()),
                FilterOp::Gt => format!("{n} > {}", one()),
                FilterOp::Gte => format!("{n} >= {}", one()),
                FilterOp::In => format!("{n} IN ({})", values.collect::<Vec<_>>().join(", ")),
                FilterOp::BeginsWith => format!("begins_with({n}, {})", one()),
                FilterOp::Contains => format!("contains({n}, {})", one()),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn conditions_use_placeholders_only() {
        let mut p = Placeholders::default();
        let conds = [
            Cond::Equals("_type".into(), s("ORDER")),
            Cond::NotExists("PK".into()),
            Cond::NotExists("a b; DROP".into()),
            Cond::Equals("PK".into(), s("x) OR (1 = 1")),
        ];
        assert_eq!(
            condition(&conds, &mut p).unwrap(),
            "#n0 = :v0 AND attribute_not_exists(#n1) AND attribute_not_exists(#n2) AND #n1 = :v1"
        );
        let (names, values) = p.into_maps();
        let names = names.unwrap();
        assert_eq!(names.len(), 3);
        assert_eq!(names["#n2"], "a b; DROP");
        assert_eq!(values.unwrap()[":v1"], s("x) OR (1 = 1"));
        assert_eq!(condition(&[], &mut Placeholders::default()), None);
        assert_eq!(Placeholders::default().into_maps(), (None, None));
    }

    #[test]
    fn updates_set_increment_and_remove() {
        let mut p = Placeholders::default();
        let actions = Actions::from([
            ("a".to_string(), Action::Set(s("1"))),
            ("b".to_string(), Action::Remove),
            ("version".to_string(), Action::Increment),
            ("c".to_string(), Action::Remove),
        ]);
        assert_eq!(
            update(&actions, &mut p).unwrap(),
            "SET #n0 = :v0, #n3 = if_not_exists(#n3, :v1) + :v2 REMOVE #n1, #n2"
        );
        let (_, values) = p.into_maps();
        assert_eq!(values.unwrap()[":v1"], AttributeValue::N("0".into()));
        assert_eq!(update(&Actions::new(), &mut Placeholders::default()), None);
    }

    #[test]
    fn key_conditions_cover_every_sort_condition() {
        let cases = [
            (None, "#n0 = :v0"),
            (
                Some(SortCondition::BeginsWith(s("O#"))),
                "#n0 = :v0 AND begins_with(#n1, :v1)",
            ),
            (
                Some(SortCondition::Between(s("a"), s("b"))),
                "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2",
            ),
            (
                Some(SortCondition::Compare(Comparison::Gt, s("a"))),
                "#n0 = :v0 AND #n1 > :v1",
            ),
            (
                Some(SortCondition::Compare(Comparison::Gte, s("a"))),
                "#n0 = :v0 AND #n1 >= :v1",
            ),
            (
                Some(SortCondition::Compare(Comparison::Lt, s("a"))),
                "#n0 = :v0 AND #n1 < :v1",
            ),
            (
                Some(SortCondition::Compare(Comparison::Lte, s("a"))),
                "#n0 = :v0 AND #n1 <= :v1",
            ),
        ];
        for (sort, want) in cases {
            let cond = KeyCondition {
                pk: ("PK", s("C#1")),
                sk: sort.map(|c| ("SK", c)),
            };
            let mut p = Placeholders::default();
            assert_eq!(key_condition(&cond, &mut p), want);
            let (names, _) = p.into_maps();
            assert_eq!(names.unwrap()["#n0"], "PK");
        }
    }

    #[test]
    fn filters_cover_every_operator() {
        let test = |op, values: &[&str]| Test {
            name: "total".into(),
            op,
            values: values.iter().map(|v| s(v)).collect(),
        };
        let cases = [
            (FilterOp::Eq, "#n0 = :v0"),
            (FilterOp::Ne, "(attribute_not_exists(#n0) OR #n0 <> :v0)"),
            (FilterOp::Lt, "#n0 < :v0"),
            (FilterOp::Lte, "#n0 <= :v0"),
            (FilterOp::Gt, "#n0 > :v0"),
            (FilterOp::Gte, "#n0 >= :v0"),
            (FilterOp::BeginsWith, "begins_with(#n0, :v0)"),
            (FilterOp::Contains, "contains(#n0, :v0)"),
        ];
        for (op, want) in cases {
            let mut p = Placeholders::default();
            assert_eq!(filter(&[test(op, &["1"])], &mut p).unwrap(), want);
        }
        let mut p = Placeholders::default();
        let tests = [
            test(FilterOp::In, &["a", "b", "c"]),
            Test {
                name: "_type".into(),
                op: FilterOp::Eq,
                values: vec![s("ORDER")],
            },
        ];
        assert_eq!(
            filter(&tests, &mut p).unwrap(),
            "#n0 IN (:v0, :v1, :v2) AND #n1 = :v3"
        );
        assert_eq!(filter(&[], &mut Placeholders::default()), None);
    }
}
