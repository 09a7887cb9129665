//! The repository action an operation is bound to: which verb, on which
//! entity, through which index, with which parameters as its key. The
//! binder (`super::binder`) decides them.

use super::types::TypeId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Get,
    Put,
    Update,
    Delete,
    Query,
    List,
}

impl Verb {
    pub const ALL: [Verb; 7] = [
        Verb::Create,
        Verb::Get,
        Verb::Put,
        Verb::Update,
        Verb::Delete,
        Verb::Query,
        Verb::List,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Get => "get",
            Self::Put => "put",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Query => "query",
            Self::List => "list",
        }
    }

    /// Verbs that address one item by its primary key.
    pub fn is_item(self) -> bool {
        matches!(self, Self::Get | Self::Put | Self::Update | Self::Delete)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Gt,
    Gte,
    Lt,
    Lte,
    BeginsWith,
    /// Between the range's parameter and this one (an index into the
    /// operation's parameters), both included; either may be absent.
    Between {
        to: usize,
    },
}

impl RangeOp {
    pub const NAMES: [&'static str; 6] = ["gt", "gte", "lt", "lte", "beginsWith", "between"];

    /// The operators with one bound, by name; `between` is bound with its
    /// second parameter.
    pub fn single(s: &str) -> Option<Self> {
        Some(match s {
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "beginsWith" => Self::BeginsWith,
            _ => return None,
        })
    }

    pub fn rust(self) -> &'static str {
        match self {
            Self::Gt => "Gt",
            Self::Gte => "Gte",
            Self::Lt => "Lt",
            Self::Lte => "Lte",
            Self::BeginsWith => "BeginsWith",
            Self::Between { .. } => "Between",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Range {
    /// Index into the operation's parameters: the value compared with, or
    /// the lower bound of `between`.
    pub param: usize,
    pub op: RangeOp,
}

impl Range {
    /// Whether the range reads this parameter (either bound of `between`).
    pub fn uses(&self, param: usize) -> bool {
        self.param == param || self.op == RangeOp::Between { to: param }
    }
}

/// How a declared filter compares its field with its parameter (`filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    BeginsWith,
    Contains,
}

impl FilterOp {
    pub const NAMES: [&'static str; 9] = [
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "in",
        "beginsWith",
        "contains",
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "in" => Self::In,
            "beginsWith" => Self::BeginsWith,
            "contains" => Self::Contains,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The runtime's `store::FilterOp` variant.
    pub fn rust(self) -> &'static str {
        match self {
            Self::Eq => "Eq",
            Self::Ne => "Ne",
            Self::Lt => "Lt",
            Self::Lte => "Lte",
            Self::Gt => "Gt",
            Self::Gte => "Gte",
            Self::In => "In",
            Self::BeginsWith => "BeginsWith",
            Self::Contains => "Contains",
        }
    }

    pub fn orders(self) -> bool {
        matches!(self, Self::Lt | Self::Lte | Self::Gt | Self::Gte)
    }
}

/// One declared filter, bound: the query parameter `param` tests entity field `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Index into the operation's parameters.
    pub param: usize,
    pub field: String,
    pub op: FilterOp,
}

/// The page type of a query or list response.
#[derive(Debug, Clone)]
pub struct PageShape {
    pub type_id: TypeId,
    pub items: String,
    pub cursor: Option<String>,
    /// The cursor property is nullable (so it is `null` on the last page
    /// rather than absent).
    pub cursor_nullable: bool,
}

#[derive(Debug, Clone)]
pub struct BoundAction {
    pub verb: Verb,
    /// Index into `Api::entities`.
    pub entity: usize,
    /// Index into the table's `indexes`; `None` is the primary key.
    pub index: Option<usize>,
    pub order: SortOrder,
    pub range: Option<Range>,
    /// Entity field bound from a parameter (index into the operation's
    /// parameters).
    pub bindings: Vec<(String, usize)>,
    pub limit: Option<usize>,
    pub cursor: Option<usize>,
    pub if_match: Option<usize>,
    /// A list served by a Scan filtered by type.
    pub scan: bool,
    /// The response the action answers with on success.
    pub success: usize,
    /// For `put`: the response for a newly created item.
    pub created: Option<usize>,
    pub page: Option<PageShape>,
    /// Who may use the action, beyond the operation's `security`.
    pub access: Access,
    /// Where the owner's key variable comes from, on an owned entity.
    pub owner: Option<OwnerKey>,
    /// What the stored item must hold for an update, put or delete to go
    /// ahead: each field one of its values.
    pub condition: Vec<(String, Vec<serde_json::Value>)>,
    /// Tests a `list` or `query` applies to each item it reads.
    pub filter: Vec<Filter>,
}

impl BoundAction {
    pub fn binding(&self, field: &str) -> Option<usize> {
        self.bindings
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, p)| *p)
    }
}

/// Who may use an action (`access` on `x-apigen-action`): any one rule
/// suffices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The item's owner.
    pub owner: bool,
    /// Any verified caller.
    pub authenticated: bool,
    /// Members of any of these groups.
    pub groups: Vec<String>,
}

impl Access {
    /// Whether callers other than the owner may act, so that the owner's key
    /// variable binds from the request's parameter for them.
    pub fn opens(&self) -> bool {
        self.authenticated || !self.groups.is_empty()
    }

    pub fn describe(&self) -> String {
        let mut rules = Vec::new();
        if self.owner {
            rules.push("the owner".to_string());
        }
        rules.extend(self.describe_opening());
        rules.join(" or ")
    }

    /// The rules other than `owner`, in words.
    pub fn describe_opening(&self) -> Option<String> {
        let mut rules = Vec::new();
        if self.authenticated {
            rules.push("any verified caller".to_string());
        }
        if !self.groups.is_empty() {
            rules.push(format!("groups {}", self.groups.join(", ")));
        }
        (!rules.is_empty()).then(|| rules.join(" or "))
    }
}

/// The owner's key variable of an owned entity's action.
#[derive(Debug, Clone)]
pub struct OwnerKey {
    /// The entity field holding the owner.
    pub field: String,
    /// The claim it is bound from.
    pub claim: String,
    /// The parameter of the same name, which binds it for callers that
    /// `Access::opens` admits.
    pub param: Option<usize>,
    /// Whether the action's key holds the owner (false for a group's list
    /// of every owner's items).
    pub confined: bool,
}
