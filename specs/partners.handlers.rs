//! The hand-written half of the partners example: apigen writes `src/handlers.rs` once with a stub
//! for the public `health` operation, and this is that stub written out, as a user would. The
//! tests copy it into the generated project before they build it.

use apigen_runtime::http;
use apigen_runtime::store;

use crate::generated::{api, models, operations};

/// The service's state: add clients and configuration here.
pub struct Service {
    store: store::Store,
}

impl Service {
    pub fn new(store: store::Store) -> Self {
        Self { store }
    }
}

impl api::Handlers for Service {
    fn store(&self) -> &store::Store {
        &self.store
    }

    /// Public: no token, so no caller.
    async fn health(
        &self,
        _context: http::RequestContext,
        _request: operations::HealthRequest,
    ) -> Result<operations::HealthResponse, http::ApiError> {
        Ok(operations::HealthResponse::Ok(models::Health {
            status: models::HealthStatus::Ok,
        }))
    }
}
