//! What the typed repository refuses to compile: each line marked `//~`
//! must fail with that error code, and nothing else may. The tests copy
//! this file into the generated project as an example and check it.

use apigen_runtime::store::{PageRequest, Range, Select, Store};
use shop_api::generated::entities::{NewOrder, OrderChanges, OrderRepository};
use shop_api::generated::models::{Currency, Customer, Order, OrderStatus};

/// The store sets the order id: a new order has no such field.
pub fn a_server_set_field(customer_id: String) -> NewOrder {
    NewOrder {
        customer_id,
        order_id: "mine".into(), //~ E0560
        status: OrderStatus::Paid,
        items: vec![],
        currency: Currency::Eur,
        note: None,
        expires_at: None,
    }
}

/// The key's fields cannot change.
pub fn a_key_field_change() -> OrderChanges {
    OrderChanges {
        customer_id: Some("someone-else".into()), //~ E0560
        ..Default::default()
    }
}

/// Orders are read by customer or by status: there is no index by total.
pub async fn an_undeclared_access_pattern(store: &Store) {
    let _ = store.orders_by_total(10, PageRequest::default()).await; //~ E0599
}

/// GSI1 sorts by creation time: a range compares date-times, not text.
pub async fn a_range_of_the_wrong_type(store: &Store) {
    let range = Some(Range::Gte("yesterday".to_string()));
    let _ = store
        .orders_by_status(&OrderStatus::Paid, range, PageRequest::default()) //~ E0308
        .await;
}

/// A status is one of the enum's values, not any string.
pub async fn a_status_that_is_not_one(store: &Store) {
    let _ = store
        .orders_by_status("lost", None, PageRequest::default()) //~ E0308
        .await;
}

/// A filter tests a field the entity has, with a value of that field's type, on that entity.
pub async fn filters_of_the_wrong_field_or_type(store: &Store) {
    let _ = Order::TOTAL.gte(&10); //~ E0599
    // Date-times are stored with varying fractional seconds: they have no filter handle.
    let _ = Order::CREATED_AT; //~ E0599
    let _ = Order::CURRENCY.eq(&"GBP"); //~ E0308
    let email = Customer::EMAIL.eq(&"ada@example.com".to_string());
    let _: Select<Order> = PageRequest::default().filter(email); //~ E0308
    let paid = Order::STATUS.eq(&OrderStatus::Paid);
    let _ = store.orders_by_customer_id("c-1", None, PageRequest::default().filter(paid));
}

fn main() {}
