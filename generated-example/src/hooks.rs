//! Your hooks on stored entities: apigen wrote this file once and never overwrites it.
//!
//! Every method of [`entities::Hooks`] is a no-op until you override it here. The store calls
//! `before_write_<entity>` with the fields it is about to write (the whole item for a create, a
//! put, a batch put or a transaction's create, after defaults, transforms, id, timestamps and
//! version; the changed fields for an update) and refuses the write if it answers an error, and
//! `after_read_<entity>` on every entity it answers, on DynamoDB and in memory alike. A put that
//! loses a race is planned again, hook included, so change nothing but the fields. Deletes and
//! `Store::add` and `Store::append` (in-place counters and lists) run no hook.

#[allow(unused_imports)]
use apigen_runtime::store;

#[allow(unused_imports)]
use crate::generated::{entities, models};

/// The hooks the generated entities call.
pub struct Hooks;

impl entities::Hooks for Hooks {}
