//! The hand-written half of the petstore example: apigen writes
//! `src/handlers.rs` once with a stub for `getPetSummary`, and this is the
//! stub written out, as a user would. The tests copy it into the generated
//! project before they build it.

use apigen_runtime::http::{ApiError, RequestContext};
use apigen_runtime::store::Store;
#[allow(unused_imports)]
use crate::generated::{
    api::Handlers,
    entities::{PetKey, PetRepository},
    models::*,
    operations::*,
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

    async fn get_pet_summary(
        &self,
        _context: RequestContext,
        request: GetPetSummaryRequest,
    ) -> Result<GetPetSummaryResponse, ApiError> {
        let key = PetKey { id: request.pet_id };
        let Some(pet) = self.store.get_pet(&key).await? else {
            return Err(ApiError::not_found(format!("no pet has id {}", request.pet_id)));
        };
        let today = chrono::Utc::now().date_naive();
        // A birth date in the future (a typo) counts as unknown rather than negative.
        let age_days = pet
            .birth_date
            .map(|born| (today - born).num_days())
            .filter(|days| *days >= 0);
        Ok(GetPetSummaryResponse::Ok(PetSummary {
            id: pet.id,
            name: pet.name,
            available: pet.status == PetStatus::Available,
            age_days: Some(age_days),
            tag_count: pet.tags.map_or(0, |tags| tags.len() as i64),
        }))
    }
}
