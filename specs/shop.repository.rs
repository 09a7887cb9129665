//! The typed repository as hand-written code uses it, and the hand-written
//! `dailyReport` on top of it. The tests copy this file into the generated
//! project as `tests/repository.rs`, where it runs on the in-memory store, or
//! on fresh tables of the server that `AWS_ENDPOINT_URL_DYNAMODB` names.

use std::sync::Arc;

use apigen_runtime::store::{
    self, Batch, BatchGet, Conditions, PageRequest, Patch, Range, Store, StoreError, Transaction,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use shop_api::generated::entities::{
    CustomerChanges, CustomerCollection, CustomerCollectionRepository, CustomerKey,
    CustomerRepository, CustomerTransaction, NewCustomer, NewOrder, NewProduct, OrderChanges,
    OrderKey, OrderRepository, OrderTransaction, ProductKey, ProductRepository, TABLES,
};
use shop_api::generated::models::{Currency, Order, OrderItemsItem, OrderStatus};
use shop_api::generated::routes;
use shop_api::handlers::Service;
use tower::ServiceExt;

async fn store() -> Store {
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        let prefix = format!("test-{}", ulid::Ulid::new());
        let store = store::dynamodb(&prefix, TABLES).await;
        store.ensure_tables(TABLES).await.expect("the test tables");
        store
    } else {
        Store::memory()
    }
}

/// A customer id of the form the schema asks for (a ULID), different for each `n`.
fn cid(n: u8) -> String {
    format!("01J{n:0>23}")
}

fn new_customer(email: &str) -> NewCustomer {
    new_customer_named(email, "Ada")
}

fn new_customer_named(email: &str, name: &str) -> NewCustomer {
    NewCustomer {
        email: email.into(),
        name: name.into(),
        phone: Some("+441234567".into()),
        marketing_opt_in: None,
    }
}

fn new_order(customer_id: &str, quantity: i32) -> NewOrder {
    NewOrder {
        customer_id: customer_id.into(),
        status: OrderStatus::Paid,
        items: vec![OrderItemsItem {
            sku: "SKU-0001".into(),
            quantity,
            unit_price: 2.5,
        }],
        currency: Currency::Eur,
        note: None,
        expires_at: None,
    }
}

#[tokio::test]
async fn a_customer_gets_its_defaults_and_typed_changes() {
    let store = store().await;
    let customer = store
        .create_customer(new_customer("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(
        customer.marketing_opt_in,
        Some(false),
        "the schema's default"
    );
    assert_eq!(customer.version, 1);
    let key = CustomerKey {
        customer_id: customer.customer_id.clone(),
    };
    let changes = CustomerChanges {
        name: Some("Ada Lovelace".into()),
        phone: Patch::Remove,
        ..Default::default()
    };
    let changed = store.update_customer(&key, changes, Some(1)).await.unwrap();
    assert_eq!(
        (
            changed.name.as_str(),
            changed.phone.as_deref(),
            changed.version
        ),
        ("Ada Lovelace", None, 2)
    );
    let stale = store
        .update_customer(&key, CustomerChanges::default(), Some(1))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch)),
        "{stale:?}"
    );

    // Lowercased before it is guarded: the same email in another case is taken. (An email with
    // blanks around it never gets to `trim`: the schema's `format: email` refuses it first.)
    let taken = store
        .create_customer(new_customer("ADA@Example.com"))
        .await;
    assert!(
        matches!(&taken, Err(StoreError::Conflict { field }) if field == "email"),
        "{taken:?}"
    );
    assert_eq!(store.get_customer(&key).await.unwrap(), Some(changed));
    store.delete_customer(&key, Some(2)).await.unwrap();
    assert_eq!(store.get_customer(&key).await.unwrap(), None);
}

#[tokio::test]
async fn orders_are_read_by_customer_and_by_status_between_two_instants() {
    let store = store().await;
    let mut made = Vec::new();
    for quantity in 1..=4 {
        made.push(
            store
                .create_order(new_order(&cid(1), quantity))
                .await
                .unwrap(),
        );
    }
    let other = store.create_order(new_order(&cid(2), 9)).await.unwrap();

    // The customer's partition, two at a time, in order id (ULID) order.
    let mut ids = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let found = store
            .orders_by_customer_id(&cid(1), None, page.clone())
            .await
            .unwrap();
        assert!(found.items.len() <= 2);
        ids.extend(found.items.into_iter().map(|o| o.order_id));
        match found.next_cursor {
            Some(cursor) => page = page.after(Some(cursor)),
            None => break,
        }
    }
    let mut want: Vec<String> = made.iter().map(|o| o.order_id.clone()).collect();
    want.sort();
    assert_eq!(ids, want);

    // Many orders by key at once, in the keys' order; a key of nothing reads as `None`.
    let mut keys: Vec<OrderKey> = made
        .iter()
        .rev()
        .map(|o| OrderKey {
            customer_id: o.customer_id.clone(),
            order_id: o.order_id.clone(),
        })
        .collect();
    keys.push(OrderKey {
        customer_id: cid(1),
        order_id: "no-such-order".into(),
    });
    let found = store.get_orders(&keys).await.unwrap();
    let mut expected: Vec<Option<_>> = made.iter().rev().cloned().map(Some).collect();
    expected.push(None);
    assert_eq!(found, expected);

    // Every customer's paid orders between the second order's creation and the third's, both
    // included.
    let (low, high) = (made[1].created_at, made[2].created_at);
    let mut want: Vec<&str> = made
        .iter()
        .chain([&other])
        .filter(|o| (low..=high).contains(&o.created_at))
        .map(|o| o.order_id.as_str())
        .collect();
    let found = store
        .orders_by_status(
            &OrderStatus::Paid,
            Some(Range::Between(low, high)),
            PageRequest::first(100),
        )
        .await
        .unwrap();
    let mut got: Vec<&str> = found.items.iter().map(|o| o.order_id.as_str()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(got.len() >= 2, "the bounds themselves are in: {got:?}");

    // A typed change moves the order to another status's partition.
    let first = &made[0];
    let key = OrderKey {
        customer_id: first.customer_id.clone(),
        order_id: first.order_id.clone(),
    };
    let changes = OrderChanges {
        status: Some(OrderStatus::Shipped),
        note: Patch::Set("leave at the door".into()),
        ..Default::default()
    };
    let shipped = store.update_order(&key, changes, None).await.unwrap();
    assert_eq!(shipped.note, Some(Some("leave at the door".to_string())));
    let page = store
        .orders_by_status(&OrderStatus::Shipped, None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items, vec![shipped]);
}

#[tokio::test]
async fn a_customers_orders_are_filtered_by_status_and_currency() {
    let store = store().await;
    let mut made = Vec::new();
    for (i, status) in [OrderStatus::Paid, OrderStatus::Pending, OrderStatus::Shipped]
        .into_iter()
        .cycle()
        .take(7)
        .enumerate()
    {
        let currency = if i % 2 == 0 { Currency::Gbp } else { Currency::Eur };
        let new = NewOrder {
            status,
            currency,
            ..new_order(&cid(9), 1)
        };
        made.push(store.create_order(new).await.unwrap());
    }
    made.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    let wanted = [OrderStatus::Paid, OrderStatus::Shipped];
    let filters = Order::STATUS
        .one_of(&wanted)
        .and(Order::CURRENCY.eq(&Currency::Gbp));
    let mut page = PageRequest::first(2);
    let (mut got, mut short) = (Vec::new(), false);
    loop {
        let found = store
            .orders_by_customer_id(&cid(9), None, page.clone().filter(filters.clone()))
            .await
            .unwrap();
        short |= found.items.len() < 2 && found.next_cursor.is_some();
        got.extend(found.items);
        match found.next_cursor {
            Some(cursor) => page = page.after(Some(cursor)),
            None => break,
        }
    }
    let want: Vec<Order> = made
        .into_iter()
        .filter(|o| wanted.contains(&o.status) && o.currency == Currency::Gbp)
        .collect();
    assert_eq!(got, want);
    assert!(short, "DynamoDB filters after it reads: some page is short but not the last");
}

#[tokio::test]
async fn a_customer_and_their_orders_are_read_in_one_batch_and_the_orders_deleted_in_another() {
    let store = store().await;
    let customer = store
        .create_customer(new_customer("batch@example.com"))
        .await
        .unwrap();
    let id = customer.customer_id.clone();
    let mut orders = Vec::new();
    for quantity in 1..=3 {
        orders.push(store.create_order(new_order(&id, quantity)).await.unwrap());
    }
    let order_key = |o: &Order| OrderKey {
        customer_id: o.customer_id.clone(),
        order_id: o.order_id.clone(),
    };

    // Two entities, typed by their keys, in one BatchGetItem.
    let mut reads = BatchGet::new();
    let who = reads.get(&CustomerKey { customer_id: id.clone() }).unwrap();
    let what: Vec<_> = orders.iter().map(|o| reads.get(&order_key(o)).unwrap()).collect();
    let mut found = store.batch_read(reads).await.unwrap();
    assert_eq!(found.take(who).unwrap(), Some(customer));
    for (slot, order) in what.into_iter().zip(&orders) {
        assert_eq!(found.take(slot).unwrap().as_ref(), Some(order));
    }

    // Orders go in one BatchWriteItem; a versioned order cannot be put blind, and a customer
    // (whose email has a guard item) cannot be deleted in a batch.
    let mut batch = Batch::new();
    for order in &orders {
        batch.delete(&order_key(order)).unwrap();
    }
    assert!(matches!(
        batch.put(new_order(&id, 9)),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        batch.delete(&CustomerKey { customer_id: id.clone() }),
        Err(StoreError::Invalid(_))
    ));
    store.write_batch(batch).await.unwrap();
    let left = store
        .orders_by_customer_id(&id, None, PageRequest::default())
        .await
        .unwrap();
    assert!(left.items.is_empty());
}

#[tokio::test]
async fn the_shops_hook_refuses_a_blank_name_from_any_writer() {
    let store = store().await;
    let refused = store.create_customer(new_customer_named("blank@example.com", "   ")).await;
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    let customer = store
        .create_customer(new_customer("named@example.com"))
        .await
        .unwrap();
    let key = CustomerKey {
        customer_id: customer.customer_id.clone(),
    };
    let changes = CustomerChanges {
        name: Some(" \t ".into()),
        ..Default::default()
    };
    let refused = store.update_customer(&key, changes, None).await;
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    let kept = store.get_customer(&key).await.unwrap().unwrap();
    assert_eq!(kept, customer, "nothing was written");
}

#[tokio::test]
async fn typed_writes_are_checked_against_the_schema() {
    let store = store().await;
    let customer = store
        .create_customer(new_customer("checked@example.com"))
        .await
        .unwrap();
    let id = customer.customer_id.clone();
    // `items` has `minItems: 1`, and a customer id is a ULID (`pattern`), read-only or not.
    let empty = NewOrder {
        items: vec![],
        ..new_order(&id, 1)
    };
    let refused = store.create_order(empty).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(m)) if m.contains("`/items`")),
        "{refused:?}"
    );
    let refused = store.create_order(new_order("not-a-ulid", 1)).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(m)) if m.contains("`/customerId`")),
        "{refused:?}"
    );
    let order = store.create_order(new_order(&id, 1)).await.unwrap();
    let key = OrderKey {
        customer_id: id.clone(),
        order_id: order.order_id.clone(),
    };
    let too_many = OrderChanges {
        items: Some(vec![order.items[0].clone(); 51]),
        ..Default::default()
    };
    let refused = store.update_order(&key, too_many, None).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(m)) if m.contains("`/items`")),
        "{refused:?}"
    );
    assert_eq!(store.get_order(&key).await.unwrap(), Some(order));
    let page = store
        .orders_by_customer_id(&id, None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1, "only the valid order was written");

    // A typed update or delete that holds only while the order is still pending.
    let pending = Conditions::default()
        .one_of("status", [OrderStatus::Pending])
        .unwrap();
    let note = OrderChanges {
        note: Patch::Set("gift wrap".into()),
        ..Default::default()
    };
    let refused = store.update_order_if(&key, note, None, &pending).await;
    assert!(
        matches!(&refused, Err(StoreError::ConditionFailed { field, .. }) if field == "status"),
        "{refused:?}"
    );
    let refused = store.delete_order_if(&key, None, &pending).await;
    assert!(matches!(refused, Err(StoreError::ConditionFailed { .. })), "{refused:?}");
    let paid = Conditions::default()
        .one_of("status", [OrderStatus::Paid])
        .unwrap();
    store.delete_order_if(&key, Some(1), &paid).await.unwrap();
    assert_eq!(store.get_order(&key).await.unwrap(), None);
}

#[tokio::test]
async fn a_product_is_put_with_its_default_and_replaced() {
    let store = store().await;
    let product = NewProduct {
        sku: "KET-0009".into(),
        name: "Kettle".into(),
        unit_price: 30.0,
        currency: Currency::Gbp,
        categories: None,
        active: None,
    };
    let key = ProductKey {
        sku: "KET-0009".into(),
    };
    let (stored, created) = store
        .put_product(&key, product.clone(), None)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(stored.active, Some(true), "the schema's default");
    let cheaper = NewProduct {
        unit_price: 25.0,
        active: Some(false),
        ..product
    };
    let (replaced, created) = store.put_product(&key, cheaper, Some(1)).await.unwrap();
    assert!(!created);
    assert_eq!(
        (replaced.unit_price, replaced.active, replaced.version),
        (25.0, Some(false), 2)
    );
    assert_eq!(replaced.created_at, stored.created_at);
}

#[tokio::test]
async fn the_daily_report_counts_the_day_of_each_order() {
    let store = store().await;
    let mut revenue = 0.0;
    for quantity in [1, 3] {
        let order = store
            .create_order(new_order(&cid(3), quantity))
            .await
            .unwrap();
        revenue += f64::from(quantity) * 2.5;
        assert_eq!(order.status, OrderStatus::Paid);
    }
    let today = chrono::Utc::now().date_naive();
    let app = routes::router(Arc::new(Service::new(store)));
    let report = |date: chrono::NaiveDate| {
        let app = app.clone();
        async move {
            let uri = format!("/reports/daily?date={date}");
            let request = Request::get(uri).body(Body::empty()).unwrap();
            let response = app.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    let body = report(today).await;
    // Created just now: today, unless the day turned in between.
    if chrono::Utc::now().date_naive() == today {
        assert_eq!(body["orderCount"], 2, "{body}");
        assert_eq!(body["revenue"], revenue, "{body}");
        assert_eq!(body["ordersByStatus"]["paid"], 2, "{body}");
    }
    let yesterday = report(today.pred_opt().unwrap()).await;
    assert_eq!(yesterday["orderCount"], 0, "{yesterday}");
}

#[tokio::test]
async fn a_customer_and_their_first_order_are_stored_together_or_not_at_all() {
    let store = store().await;
    let mut tx = Transaction::new();
    let customer = tx
        .create_customer(new_customer("grace@example.com"))
        .unwrap();
    let order = tx
        .create_order(new_order(&customer.customer_id, 2))
        .unwrap();
    store.transact(tx).await.unwrap();
    let key = CustomerKey {
        customer_id: customer.customer_id.clone(),
    };
    assert_eq!(
        store.get_customer(&key).await.unwrap(),
        Some(customer.clone())
    );
    let order_key = OrderKey {
        customer_id: customer.customer_id.clone(),
        order_id: order.order_id.clone(),
    };
    assert_eq!(
        store.get_order(&order_key).await.unwrap(),
        Some(order.clone())
    );

    // The customer and their orders share a partition: one Query reads them all, in sort key
    // order (`ORDER#...` before `PROFILE`).
    let both = store
        .customer_and_orders(&customer.customer_id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        both.items,
        vec![
            CustomerCollection::Order(order),
            CustomerCollection::Customer(customer.clone())
        ]
    );

    // The email is taken: the second order is not stored either, and the error names the part.
    let mut tx = Transaction::new();
    let lost = tx
        .create_order(new_order(&customer.customer_id, 5))
        .unwrap();
    tx.create_customer(new_customer("grace@example.com"))
        .unwrap();
    let result = store.transact(tx).await;
    assert!(
        matches!(&result, Err(StoreError::Cancelled { part: 1, cause })
            if matches!(cause.as_ref(), StoreError::Conflict { field } if field == "email")),
        "{result:?}"
    );
    let lost_key = OrderKey {
        customer_id: customer.customer_id.clone(),
        order_id: lost.order_id,
    };
    assert_eq!(store.get_order(&lost_key).await.unwrap(), None);

    // Ship the order only while the customer is still at version 1.
    let paid = Conditions::default().one_of("status", ["paid"]).unwrap();
    let mut tx = Transaction::new();
    tx.update_order(
        &order_key,
        OrderChanges {
            status: Some(OrderStatus::Shipped),
            ..Default::default()
        },
        None,
        paid,
    )
    .unwrap()
    .check_customer(&key, Some(1), Conditions::default())
    .unwrap();
    store.transact(tx).await.unwrap();
    let shipped = store.get_order(&order_key).await.unwrap().unwrap();
    assert_eq!(shipped.status, OrderStatus::Shipped);
}
