//! What a game-server store sells, and who buys it: the basket behind each sample Checkout
//! Session (its line items) and the metadata a FluxStore checkout writes (player, server,
//! package).
//!
//! Invariant: a basket is a pure function of the session's id, total and currency, so the
//! session's metadata (written when the events are rendered) and its line items (answered
//! later by a Stripe stand-in, which sees only the session) always describe the same
//! purchase, and the line items add up to the session's `amount_total`.

use serde_json::{Value, json};

use crate::ids::{base62, fnv1a, splitmix};

/// (name, product id tag) of the store's main packages.
const PACKAGES: [(&str, &str); 8] = [
    ("VIP Rank (30 days)", "vip30"),
    ("MVP+ Rank (lifetime)", "mvpplus"),
    ("Legend Rank", "legend"),
    ("Mythic Crate Key x5", "mythic5"),
    ("10,000 Coins", "coins10k"),
    ("Baby Dragon Pet", "petdragon"),
    ("Island Upgrade: Tier 3", "island3"),
    ("Unban Appeal Fast-Track", "unban"),
];
/// Add-ons, bought in twos or threes.
const ADDONS: [(&str, &str); 3] = [
    ("Vote Crate Key", "votekey"),
    ("500 Coins", "coins500"),
    ("Name Tag Colour", "nametag"),
];
const SERVERS: [&str; 5] = [
    "Survival EU #1",
    "Skyblock",
    "Factions US",
    "Prison (Season 7)",
    "Creative",
];
const PLAYERS: [&str; 8] = [
    "xX_Steve_Xx",
    "CreeperSlayer99",
    "DiamondDigger",
    "BlazeRunner",
    "EnderQueen",
    "RedstoneRay",
    "PixelPanda",
    "NetherNomad",
];

/// One line of a basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketLine {
    pub name: &'static str,
    pub product: String,
    pub price: String,
    pub quantity: i64,
    /// Minor units for the whole line.
    pub amount: i64,
}

/// The smallest step an amount in `currency` is rendered in (three-decimal currencies in
/// tens, as Stripe asks for KWD and friends).
fn step(currency: &str) -> i64 {
    if fluxstore_mirror::facts::minor_unit_exponent(currency) == 3 {
        10
    } else {
        1
    }
}

/// What the session `session_id` of `total` in `currency` bought.
pub fn basket(session_id: &str, total: i64, currency: &str) -> Vec<BasketLine> {
    let mut state = fnv1a(session_id.as_bytes());
    let r = splitmix(&mut state);
    let (name, tag) = PACKAGES[(r % PACKAGES.len() as u64) as usize];
    let id = |kind: &str, tag: &str| format!("{kind}_{}", base62(fnv1a(tag.as_bytes()), 14));
    let main = |amount| BasketLine {
        name,
        product: id("prod", tag),
        price: id("price", &format!("{tag}/{currency}")),
        quantity: 1,
        amount,
    };
    let s = step(currency);
    // Some baskets add a few add-ons worth about a fifth of the total.
    let quantity = 2 + (r >> 8) as i64 % 2;
    let unit = (total / 5 / quantity) / s * s;
    if !(r >> 16).is_multiple_of(3) || unit <= 0 {
        return vec![main(total)];
    }
    let (addon, addon_tag) = ADDONS[((r >> 24) % ADDONS.len() as u64) as usize];
    vec![
        main(total - unit * quantity),
        BasketLine {
            name: addon,
            product: id("prod", addon_tag),
            price: id("price", &format!("{addon_tag}/{currency}")),
            quantity,
            amount: unit * quantity,
        },
    ]
}

/// The metadata FluxStore's checkout writes on a session: the order, the player the
/// purchase is delivered to, the server, the main package.
pub fn checkout_metadata(session_id: &str, order: &str, total: i64, currency: &str) -> Value {
    let h = fnv1a(format!("player/{session_id}").as_bytes());
    json!({
        "fluxstore_order": order,
        "player": PLAYERS[(h % PLAYERS.len() as u64) as usize],
        "server": SERVERS[((h >> 8) % SERVERS.len() as u64) as usize],
        "package": basket(session_id, total, currency)[0].name,
    })
}

/// Stripe's `item` objects (`GET /v1/checkout/sessions/{id}/line_items`) of a rendered
/// session: its basket, with ids derived from the session.
pub fn line_items_of_session(session: &Value) -> Vec<Value> {
    let id = session["id"].as_str().unwrap_or_default();
    let total = session["amount_total"].as_i64().unwrap_or(0);
    let currency = session["currency"].as_str().unwrap_or("usd");
    basket(id, total, currency)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let unit = l.amount / l.quantity.max(1);
            json!({
                "id": format!("li_{}", base62(fnv1a(format!("{id}/{i}").as_bytes()), 24)),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": l.amount,
                "amount_tax": 0,
                "amount_total": l.amount,
                "currency": currency,
                "description": l.name,
                "price": {
                    "id": l.price, "object": "price", "active": true, "billing_scheme": "per_unit",
                    "currency": currency, "livemode": session["livemode"], "product": l.product,
                    "type": "one_time", "unit_amount": unit, "recurring": null, "metadata": {},
                },
                "quantity": l.quantity,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baskets_add_up_and_match_their_metadata() {
        for (i, cur) in ["usd", "eur", "jpy", "kwd"].iter().enumerate() {
            for n in 0..40 {
                let id = format!("cs_test_{n}_{i}");
                let total = 500 + 137 * n * 10;
                let b = basket(&id, total, cur);
                assert_eq!(b.iter().map(|l| l.amount).sum::<i64>(), total);
                assert!(b.iter().all(|l| l.amount > 0 && l.amount % step(cur) == 0));
                let m = checkout_metadata(&id, "order-1", total, cur);
                assert_eq!(m["package"], b[0].name);
                let session =
                    json!({"id": id, "amount_total": total, "currency": cur, "livemode": false});
                let items = line_items_of_session(&session);
                assert_eq!(items.len(), b.len());
                assert_eq!(items[0]["description"], b[0].name);
            }
        }
    }
}
