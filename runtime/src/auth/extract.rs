//! The axum extractor that authenticates a request before anything else is read.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::authenticator::Authenticator;
use super::caller::Caller;
use super::def::Required;
use crate::http::ApiError;

/// Extractor for axum: authenticates before anything else is read (put it before the request
/// extractor), answers 401/403 problem+json itself, and also inserts the [`Caller`] into the
/// request extensions for layers. The [`Authenticator`] comes from the request extensions
/// (`router.layer(axum::Extension(Arc<Authenticator>))`); missing: a 500, logged.
#[derive(Debug)]
pub struct Authorized<R>(pub Caller, pub PhantomData<R>);

impl<S: Send + Sync, R: Required> FromRequestParts<S> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(authenticator) = parts.extensions.get::<Arc<Authenticator>>().cloned() else {
            return Err(ApiError::internal(
                "no Authenticator in the request extensions: add \
                 .layer(axum::Extension(Arc::new(Authenticator::from_env(..)))) to the router",
            ));
        };
        let caller = authenticator.authenticate(parts, R::SECURITY).await?;
        parts.extensions.insert(caller.clone());
        Ok(Self(caller, PhantomData))
    }
}
