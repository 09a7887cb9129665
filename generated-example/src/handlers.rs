//! Your code: apigen wrote this file once and never overwrites it.
//!
//! Operations with a storage action work out of the box through the default methods of
//! [`api::Handlers`]; override any of them here. Every other operation must be written here.

#[allow(unused_imports)]
use apigen_runtime::http;
use apigen_runtime::store;

#[allow(unused_imports)]
use crate::generated::{api, models::*, operations::*};

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

    async fn daily_report(
        &self,
        _context: http::RequestContext,
        _request: DailyReportRequest,
    ) -> Result<DailyReportResponse, http::ApiError> {
        Err(http::ApiError::not_implemented("dailyReport"))
    }
}
