//! `src/generated/messages.rs` of a project with a WebSocket API: the `Messages` trait (one
//! method per route the user handles), the topics of its subscribe routes, the entities whose
//! changes it pushes, and the routes table the runtime serves locally and under Lambda.

use proc_macro2::TokenStream;
use quote::quote;

use super::rust::{docs, ident, inner_docs, use_runtime};
use super::schemas::SchemaNames;
use super::storage::{entity_static, template};
use crate::model::names::const_name;
use crate::model::security::OpSecurity;
use crate::model::websocket::{Route, RouteKind, Source, Topic, WebSocket, DEFAULT_ROUTE};
use crate::model::{Api, TypeId, TypeKind};

pub fn emit(api: &Api, ws: &WebSocket) -> TokenStream {
    let names = SchemaNames::new(api);
    let mut out = inner_docs(
        "The WebSocket API: the routes of its messages, the topics its subscribe routes name, \
         and the entities whose changes reach their topic's subscribers.",
    );
    let topics = ws
        .routes
        .iter()
        .any(|r| matches!(r.kind, RouteKind::Subscribe(_) | RouteKind::Unsubscribe(_)));
    let publishes = api.entities.iter().any(|e| e.publish.is_some());
    let handled = ws.routes.iter().any(|r| {
        matches!(r.kind, RouteKind::Handler) && (r.message.is_some() || r.reply.is_some())
    });
    out.extend(use_runtime("http"));
    if topics || publishes {
        out.extend(use_runtime("store"));
    }
    out.extend(use_runtime("websocket"));
    if ws.security.is_secured() && topics {
        out.extend(use_runtime("auth"));
    }
    if publishes {
        out.extend(quote! { use crate::generated::entities; });
    }
    if handled {
        out.extend(quote! { use crate::generated::models; });
    }
    if ws.routes.iter().any(|r| r.message.is_some()) {
        out.extend(quote! { use crate::generated::schemas; });
    }
    out.extend(messages_trait(api, ws));
    for route in &ws.routes {
        if let RouteKind::Subscribe(topic) | RouteKind::Unsubscribe(topic) = &route.kind {
            out.extend(topic_static(api, ws, route, topic));
        }
    }
    out.extend(published(api));
    out.extend(routes(api, ws, &names));
    out
}

/// The model a route's messages are read as: the request-side twin when readOnly fields exist.
fn message_type(api: &Api, id: TypeId) -> TokenStream {
    let id = api.types.get(id).input.unwrap_or(id);
    let name = ident(&api.types.get(id).name);
    quote! { models::#name }
}

fn reply_type(api: &Api, route: &Route) -> TokenStream {
    match route.reply {
        Some(id) => {
            let name = ident(&api.types.get(id).name);
            quote! { Option<models::#name> }
        }
        None => quote! { () },
    }
}

fn route_doc(api: &Api, route: &Route) -> String {
    let what = match route.message {
        Some(id) => format!("messages follow `{}`", api.types.get(id).name),
        None => "messages no other route takes, as JSON".to_string(),
    };
    let answer = match route.reply {
        Some(id) => format!("; the answer, if any, is a `{}`", api.types.get(id).name),
        None => String::new(),
    };
    let line = format!("Route `{}`: {what}{answer}.", route.action);
    match &route.description {
        Some(description) => format!("{description}\n\n{line}"),
        None => line,
    }
}

fn messages_trait(api: &Api, ws: &WebSocket) -> TokenStream {
    let methods = ws
        .routes
        .iter()
        .filter(|r| matches!(r.kind, RouteKind::Handler))
        .map(|route| {
            let doc = docs(Some(&route_doc(api, route)));
            let name = ident(&route.function);
            let message = match route.message {
                Some(id) => message_type(api, id),
                None => quote! { serde_json::Value },
            };
            let reply = reply_type(api, route);
            quote! {
                #doc
                fn #name(
                    &self,
                    context: websocket::Context,
                    message: #message,
                ) -> impl std::future::Future<Output = Result<#reply, http::ApiError>> + Send;
            }
        });
    quote! {
        /// The routes you handle, implemented by `handlers::Service` in `src/handlers.rs`. A
        /// handler's error is sent back to the sender as an error message; the connection stays
        /// open. `context.connections` pushes to other connections and topics.
        pub trait Messages: Send + Sync + 'static {
            #(#methods)*
        }
    }
}

fn topic_const(route: &Route) -> proc_macro2::Ident {
    ident(&format!("{}_TOPIC", const_name(&route.function)))
}

fn topic_static(api: &Api, ws: &WebSocket, route: &Route, topic: &Topic) -> TokenStream {
    let entity = &api.entities[topic.entity];
    let template = template(
        entity
            .publish
            .as_ref()
            .expect("a subscribed entity publishes"),
    );
    let claims = topic
        .vars
        .iter()
        .filter_map(|(field, source)| match source {
            Source::Claim(claim) => Some(quote! { (#field, #claim) }),
            Source::Message => None,
        });
    let access = match &ws.security {
        OpSecurity::Public => quote! { None },
        OpSecurity::Secured(_) => {
            let (owner, authenticated) = (topic.access.owner, topic.access.authenticated);
            let groups = &topic.access.groups;
            quote! { Some(auth::Access { owner: #owner, authenticated: #authenticated, groups: &[#(#groups),*] }) }
        }
    };
    let name = topic_const(route);
    let source = &entity
        .publish
        .as_ref()
        .map(|t| t.source.clone())
        .unwrap_or_default();
    let doc = format!(
        " The topic route `{}` names: `{}`'s `{source}`, {}.",
        route.action,
        entity.schema,
        match topic.vars.iter().any(|(_, s)| *s != Source::Message) {
            true => "its owner bound from the caller's token",
            false => "bound from the message",
        }
    );
    quote! {
        #[doc = #doc]
        pub static #name: websocket::TopicDef = websocket::TopicDef {
            template: #template,
            claims: &[#(#claims),*],
            access: #access,
        };
    }
}

/// The entities with `publish`, and the fields never pushed.
fn published(api: &Api) -> TokenStream {
    let defs = api.entities.iter().filter_map(|entity| {
        let topic = template(entity.publish.as_ref()?);
        let name = entity_static(entity);
        let hidden: Vec<&str> = match &api.types.get(entity.type_id).kind {
            TypeKind::Struct(s) => s
                .fields
                .iter()
                .filter(|f| f.write_only)
                .map(|f| f.name.as_str())
                .collect(),
            _ => Vec::new(),
        };
        Some(quote! {
            websocket::PublishDef { entity: &entities::#name, topic: #topic, hidden: &[#(#hidden),*] }
        })
    });
    quote! {
        /// The entities whose every change reaches the subscribers of its item's topic (their
        /// `writeOnly` fields left out).
        pub static PUBLISHED: &[websocket::PublishDef] = &[#(#defs),*];
    }
}

fn routes(api: &Api, ws: &WebSocket, names: &SchemaNames) -> TokenStream {
    let path: Vec<&str> = ws
        .selection
        .strip_prefix("$request.body.")
        .unwrap_or("action")
        .split('.')
        .collect();
    let mut chain = TokenStream::new();
    for route in &ws.routes {
        let action = &route.action;
        let schema = route.message.and_then(|id| names.of(id)).map(ident);
        let function = ident(&route.function);
        chain.extend(match (&route.kind, schema) {
            (RouteKind::Subscribe(_), Some(schema)) => {
                let topic = topic_const(route);
                quote! { .subscribe_to(#action, &schemas::#schema, &#topic) }
            }
            (RouteKind::Unsubscribe(_), Some(schema)) => {
                let topic = topic_const(route);
                quote! { .unsubscribe_from(#action, &schemas::#schema, &#topic) }
            }
            (RouteKind::Handler, _) if route.action == DEFAULT_ROUTE => {
                let answer = match route.reply {
                    Some(_) => quote! { service.#function(context, message).await },
                    None => quote! { service.#function(context, message).await.map(|()| None::<()>) },
                };
                quote! {
                    .fallback(|service: std::sync::Arc<H>, context, message| async move {
                        #answer
                    })
                }
            }
            (RouteKind::Handler, Some(schema)) => {
                let message = message_type(api, route.message.expect("a schema has a type"));
                let answer = match route.reply {
                    Some(_) => quote! { service.#function(context, message).await },
                    None => quote! { service.#function(context, message).await.map(|()| None::<()>) },
                };
                quote! {
                    .on(#action, &schemas::#schema, |service: std::sync::Arc<H>, context, message: #message| async move {
                        #answer
                    })
                }
            }
            // Every message schema is a named component with a schema table.
            _ => TokenStream::new(),
        });
    }
    let scheme = match ws.scheme() {
        Some(i) => {
            let name = &api.auth.schemes[i].name;
            quote! { Some(#name) }
        }
        None => quote! { None },
    };
    let expression = &ws.selection;
    let doc = format!(" The routes of the WebSocket API, selected by `{expression}`.");
    quote! {
        /// The security scheme `$connect` is verified with, as its authorizer names the caller.
        pub const SCHEME: Option<&str> = #scheme;

        #[doc = #doc]
        pub fn routes<H: Messages>() -> websocket::Routes<std::sync::Arc<H>> {
            websocket::Routes::new(websocket::RouteSelection::body(&[#(#path),*]))
                #chain
        }
    }
}
