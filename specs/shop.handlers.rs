//! The hand-written half of the shop example: apigen writes
//! `src/handlers.rs` once with a stub for `dailyReport`, and this is the stub
//! written out, as a user would. The tests copy it into the generated project
//! before they build it.

use apigen_runtime::http::{ApiError, RequestContext};
use apigen_runtime::store::{PageRequest, Range, Store};
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

    /// One query of GSI1 per status (keyed by status, sorted by creation
    /// time), between the first and the last millisecond of the day.
    async fn daily_report(
        &self,
        _context: RequestContext,
        request: DailyReportRequest,
    ) -> Result<DailyReportResponse, ApiError> {
        let start = request.date.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = start + chrono::TimeDelta::days(1) - chrono::TimeDelta::milliseconds(1);
        let mut report = DailyReport {
            date: request.date,
            order_count: 0,
            revenue: 0.0,
            orders_by_status: Default::default(),
        };
        for status in STATUSES {
            let mut page = PageRequest::first(100);
            let mut count = 0;
            loop {
                let day = Range::Between(start, end);
                let found = self
                    .store
                    .orders_by_status(&status, Some(day), page.clone())
                    .await?;
                for order in &found.items {
                    count += 1;
                    report.revenue += order
                        .items
                        .iter()
                        .map(|line| f64::from(line.quantity) * line.unit_price)
                        .sum::<f64>();
                }
                match found.next_cursor {
                    Some(cursor) => page = page.after(Some(cursor)),
                    None => break,
                }
            }
            if count > 0 {
                report
                    .orders_by_status
                    .insert(status.as_str().to_string(), count);
                report.order_count += count;
            }
        }
        Ok(DailyReportResponse::Ok(report))
    }
}
