//! The hand-written half: storage operations use the generated defaults,
//! but for `createNote`, which also counts the notes written; `getHealth`
//! has no storage action, so it is written here. A new operation without
//! an action in openapi.yaml is a compile error naming its method until it
//! is added below.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use apigen_runtime::http::{ApiError, RequestContext};
use apigen_runtime::store::Store;

use crate::generated::actions;
use crate::generated::api::Handlers;
use crate::generated::models::{Health, HealthStatus};
use crate::generated::operations::{
    CreateNoteRequest, CreateNoteResponse, GetHealthRequest, GetHealthResponse,
};

/// The service's state: the store, and what the service keeps besides.
pub struct Service {
    store: Store,
    written: Arc<AtomicU64>,
}

impl Service {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            written: Arc::default(),
        }
    }

    /// How many notes this process has written, shared with whoever asks (a metrics task, a
    /// test) while the router owns the service.
    pub fn written(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.written)
    }
}

impl Handlers for Service {
    fn store(&self) -> &Store {
        &self.store
    }

    async fn create_note(
        &self,
        _context: RequestContext,
        request: CreateNoteRequest,
    ) -> Result<CreateNoteResponse, ApiError> {
        let created = actions::create_note(&self.store, request).await?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(created)
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
