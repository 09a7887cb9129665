//! The hand-written half: storage operations use the generated defaults;
//! `getHealth` has no storage action, so it is written here. A new
//! operation without an action in openapi.yaml is a compile error naming
//! its method until it is added below.

use crate::generated::api::Handlers;
use crate::generated::http::{ApiError, RequestContext};
use crate::generated::models::{Health, HealthStatus};
use crate::generated::operations::{GetHealthRequest, GetHealthResponse};
use crate::generated::store::Store;

/// The service's state.
pub struct Service {
    store: Store,
}

impl Service {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Handlers for Service {
    fn store(&self) -> &Store {
        &self.store
    }

    async fn get_health(
        &self,
        _context: RequestContext,
        _request: GetHealthRequest,
    ) -> Result<GetHealthResponse, ApiError> {
        Ok(GetHealthResponse::Ok(Health {
            status: HealthStatus::Ok,
        }))
    }
}
