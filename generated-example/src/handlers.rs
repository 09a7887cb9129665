//! Your code: apigen wrote this file once and never overwrites it.
//!
//! Operations with a storage action work out of the box through the default methods of
//! [`Handlers`]; override any of them here. Every other operation must be written here.

#[allow(unused_imports)]
use crate::generated::{
    api::Handlers, http::{ApiError, RequestContext},
    models::*, operations::*, store::Store,
};

/// The service's state: add clients and configuration here.
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

    async fn daily_report(
        &self,
        _context: RequestContext,
        _request: DailyReportRequest,
    ) -> Result<DailyReportResponse, ApiError> {
        Err(ApiError::not_implemented("dailyReport"))
    }
}
