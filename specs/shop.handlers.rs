//! The hand-written half of the shop example: apigen writes
//! `src/handlers.rs` once with a stub for `dailyReport`, and this is the stub
//! written out, as a user would. The tests copy it into the generated project
//! before they build it.

use apigen_runtime::http::{ApiError, RequestContext};
use apigen_runtime::store::{Query, RangeOp, Store};
#[allow(unused_imports)]
use crate::generated::{api::Handlers, entities::OrderRepository, models::*, operations::*};

/// The service's state: add clients and configuration here.
pub struct Service {
    store: Store,
}

impl Service {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const STATUSES: [OrderStatus; 5] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
];

impl Handlers for Service {
    fn store(&self) -> &Store {
        &self.store
    }

    /// One GSI1 query per status (GSI1 is keyed by status, then creation
    /// time), from the start of the day on, stopping at the first order of
    /// the next day.
    async fn daily_report(
        &self,
        _context: RequestContext,
        request: DailyReportRequest,
    ) -> Result<DailyReportResponse, ApiError> {
        let start = format!("{}T00:00:00.000Z", request.date);
        let mut report = DailyReport {
            date: request.date,
            order_count: 0,
            revenue: 0.0,
            orders_by_status: Default::default(),
        };
        for status in STATUSES {
            let status_name = serde_json::to_value(status).map_err(ApiError::internal)?;
            let mut cursor = None;
            let mut count = 0;
            'pages: loop {
                let mut values = serde_json::Map::new();
                values.insert("status".into(), status_name.clone());
                let page = self
                    .store
                    .query_orders(Query {
                        index: Some("GSI1"),
                        values,
                        range: Some((RangeOp::Gte, start.clone())),
                        descending: false,
                        limit: 100,
                        cursor,
                        scan: false,
                    })
                    .await?;
                for order in page.items {
                    if order.created_at.date_naive() != request.date {
                        break 'pages;
                    }
                    count += 1;
                    report.revenue += order
                        .items
                        .iter()
                        .map(|line| f64::from(line.quantity) * line.unit_price)
                        .sum::<f64>();
                }
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            if count > 0 {
                let name = status_name.as_str().unwrap_or_default().to_string();
                report.orders_by_status.insert(name, count);
                report.order_count += count;
            }
        }
        Ok(DailyReportResponse::Ok(report))
    }
}
