//! How DynamoDB compares values: key order (S, B by bytes; N numerically) and `=` in conditions.

use std::cmp::Ordering;

use aws_sdk_dynamodb::types::AttributeValue;

/// A key attribute value, ordered the way DynamoDB sorts keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum KeyValue {
    S(String),
    N(Number),
    B(Vec<u8>),
}

impl KeyValue {
    /// The key value of `value`, or `None` when that type cannot be a key.
    pub(super) fn of(value: &AttributeValue) -> Option<KeyValue> {
        match value {
            // `String` orders by UTF-8 bytes, exactly like DynamoDB.
            AttributeValue::S(s) => Some(KeyValue::S(s.clone())),
            AttributeValue::N(n) => Number::parse(n).map(KeyValue::N),
            AttributeValue::B(b) => Some(KeyValue::B(b.as_ref().to_vec())),
            _ => None,
        }
    }
}

/// Compares two scalar values like a DynamoDB key condition; `None` when they are not comparable
/// (different types, or not S/N/B).
pub(super) fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (KeyValue::of(a)?, KeyValue::of(b)?) {
        (KeyValue::S(a), KeyValue::S(b)) => Some(a.cmp(&b)),
        (KeyValue::N(a), KeyValue::N(b)) => Some(a.cmp(&b)),
        (KeyValue::B(a), KeyValue::B(b)) => Some(a.cmp(&b)),
        _ => None,
    }
}

/// `a = b` in a DynamoDB condition: same type and same value (numbers compared as numbers, sets
/// as sets, lists and maps element by element).
pub(super) fn equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as A;
    match (a, b) {
        (A::S(_), A::S(_)) | (A::N(_), A::N(_)) | (A::B(_), A::B(_)) => {
            compare(a, b) == Some(Ordering::Equal)
        }
        (A::Bool(a), A::Bool(b)) => a == b,
        (A::Null(_), A::Null(_)) => true,
        (A::L(a), A::L(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b)),
        (A::M(a), A::M(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
        }
        (A::Ss(a), A::Ss(b)) => same_set(a, b, |x, y| x == y),
        (A::Bs(a), A::Bs(b)) => same_set(a, b, |x, y| x == y),
        (A::Ns(a), A::Ns(b)) => same_set(a, b, |x, y| {
            Number::parse(x).is_some_and(|x| Number::parse(y) == Some(x))
        }),
        _ => false,
    }
}

fn same_set<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    // Set elements are unique, so equal sizes plus inclusion one way is equality.
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| eq(x, y)))
}

/// A DynamoDB number compared exactly (up to 38 digits do not fit an f64).
///
/// Normalised so that equal numbers are equal structs: value = 0.`digits` × 10^`exponent`,
/// without leading or trailing zeros in `digits`; zero has no digits and is never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Number {
    /// Parses DynamoDB's number syntax: `-12.5`, `1E3`, `.5`, `+7`.
    pub(super) fn parse(text: &str) -> Option<Number> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let leading = all.iter().take_while(|&&d| d == 0).count();
        let mut digits = all[leading..].to_vec();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Number {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        let int_len = i64::try_from(int.len()).ok()?;
        let leading = i64::try_from(leading).ok()?;
        let exponent = exponent.checked_add(int_len)?.checked_sub(leading)?;
        Some(Number {
            negative,
            digits,
            exponent,
        })
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Normalised digits start with a non-zero digit, so the exponent decides first.
            (false, false) => self
                .exponent
                .cmp(&other.exponent)
                .then_with(|| self.digits.cmp(&other.digits)),
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("-0"), n("0.000"));
        assert_eq!(n("1e3"), n("1000"));
        assert_eq!(n(".5"), n("0.50"));
        assert!(n("9") < n("10"));
        assert!(n("-10") < n("-9"));
        assert!(n("-1") < n("0"));
        assert!(n("0") < n("0.001"));
        assert!(
            n("99999999999999999999999999999999999998")
                < n("99999999999999999999999999999999999999")
        );
        assert!(n("12.5") > n("12.49"));
        for bad in ["", "-", ".", "1.2.3", "abc", "1e", "--1"] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn strings_order_by_bytes_and_equality_is_typed() {
        let s = |v: &str| AttributeValue::S(v.into());
        assert_eq!(compare(&s("B"), &s("a")), Some(Ordering::Less));
        assert_eq!(compare(&s("a"), &AttributeValue::N("1".into())), None);
        assert!(equal(
            &AttributeValue::N("2".into()),
            &AttributeValue::N("2.0".into())
        ));
        assert!(!equal(&s("2"), &AttributeValue::N("2".into())));
        let ss = |v: &[&str]| AttributeValue::Ss(v.iter().map(|x| x.to_string()).collect());
        assert!(equal(&ss(&["a", "b"]), &ss(&["b", "a"])));
        assert!(!equal(&ss(&["a", "b"]), &ss(&["a", "c"])));
    }
}
