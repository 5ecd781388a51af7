//! An order's purchase and its look-up at Stripe, the same for the window and the command
//! line: the order is found in this mode's mirror by any of its ids, then the client (and its
//! privacy guard) does the rest.
use fluxstore_mirror::{LineItem, Mode, OrderMarker};

use super::{Profile, ProfileError};
use crate::orders::LookupReport;
use crate::sync::CancelToken;

impl Profile {
    /// The Checkout Session id of the order `id` names (its own id, or any of its Stripe ids)
    /// in `mode`, or a refusal in the owner's words.
    async fn order_key(&self, mode: Mode, id: &str) -> Result<String, ProfileError> {
        let wanted = id.trim().to_owned();
        let found = self
            .read({
                let wanted = wanted.clone();
                move |m| Ok(m.order_detail(mode, &wanted)?.map(|d| d.order.session_id))
            })
            .await?;
        found.ok_or(ProfileError::OrderNotFound(wanted))
    }

    /// Fetch (again) the line items of an order from Stripe and keep them in the mirror.
    pub async fn fetch_line_items(
        &self,
        mode: Mode,
        id: &str,
    ) -> Result<Vec<LineItem>, ProfileError> {
        let key = self.order_key(mode, id).await?;
        let client = self.client(mode).await?;
        Ok(client.fetch_line_items(&key).await?)
    }

    /// "Look it up on Stripe's side" for an order of `mode` (see
    /// [`crate::StripeClient::lookup_order`]).
    pub async fn lookup_order(&self, mode: Mode, id: &str) -> Result<LookupReport, ProfileError> {
        let key = self.order_key(mode, id).await?;
        let client = self.client(mode).await?;
        Ok(client.lookup_order(&key, &CancelToken::new()).await?)
    }

    /// The owner's order marker (which Checkout Sessions are FluxStore orders).
    pub async fn order_marker(&self) -> Result<Option<OrderMarker>, ProfileError> {
        self.read(|m| m.order_marker()).await
    }

    /// Set or clear the order marker; returns it as stored.
    pub async fn set_order_marker(
        &self,
        marker: Option<OrderMarker>,
    ) -> Result<Option<OrderMarker>, ProfileError> {
        // The owner's typing, checked apart so a mistake reads as input to fix, not as a
        // database failure.
        let marker = marker
            .map(|m| fluxstore_mirror::validate_order_marker(&m))
            .transpose()
            .map_err(|e| ProfileError::Invalid(e.to_string()))?;
        self.write(move |m| m.set_order_marker(marker.as_ref()))
            .await
    }
}
