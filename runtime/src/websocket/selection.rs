//! Which route a message takes: API Gateway's route selection expression, evaluated on the
//! message as API Gateway evaluates it.

use serde_json::Value;

/// A route selection expression of the form `$request.body.<path>` (dotted), the only form
/// API Gateway evaluates on a message's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSelection {
    path: Vec<String>,
}

impl RouteSelection {
    /// `$request.body.action`, API Gateway's usual expression.
    pub fn action() -> Self {
        Self {
            path: vec!["action".to_owned()],
        }
    }

    /// The expression selecting on the field at `path` of the body.
    pub fn body(path: &[&str]) -> Self {
        Self {
            path: path.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// Reads `$request.body.a.b`; `None` for any other form.
    pub fn parse(expression: &str) -> Option<Self> {
        let rest = expression.strip_prefix("$request.body.")?;
        let path: Vec<&str> = rest.split('.').collect();
        path.iter()
            .all(|p| !p.is_empty())
            .then(|| Self::body(&path))
    }

    /// The expression as API Gateway takes it.
    pub fn expression(&self) -> String {
        format!("$request.body.{}", self.path.join("."))
    }

    /// The route key a message selects: the string at the path. `None` (the `$default` route)
    /// when the message has no string there.
    pub fn select<'v>(&self, message: &'v Value) -> Option<&'v str> {
        let mut at = message;
        for key in &self.path {
            at = at.as_object()?.get(key)?;
        }
        at.as_str()
    }

    /// Takes the selecting field out of `message`, for message schemas that do not declare it.
    pub fn remove(&self, message: &mut Value) {
        let Some((last, parents)) = self.path.split_last() else {
            return;
        };
        let mut at = message;
        for key in parents {
            match at.as_object_mut().and_then(|o| o.get_mut(key)) {
                Some(next) => at = next,
                None => return,
            }
        }
        if let Some(object) = at.as_object_mut() {
            object.remove(last);
        }
    }

    /// The field's name at the top level, when the path has one segment.
    pub(crate) fn top_level(&self) -> Option<&str> {
        match self.path.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

impl Default for RouteSelection {
    fn default() -> Self {
        Self::action()
    }
}
