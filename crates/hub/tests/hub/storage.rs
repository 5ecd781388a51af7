//! One storage suite, run against the embedded store and against PostgreSQL.

use std::time::Duration;

use fluxstore_hub::store::{NewDoorbell, NewStore, Scope, Store, TakenGrant, Target, WAKE_ALL};
use fluxstore_hub::{SqliteStore, tokens};

use crate::rig;

fn doorbell(target: Target, livemode: bool, event_id: &str, received: i64) -> NewDoorbell {
    NewDoorbell {
        target,
        livemode,
        event_id: event_id.to_owned(),
        event_type: "checkout.session.completed".to_owned(),
        created: received - 1,
        received,
    }
}

async fn suite<S: Store>(store: S) {
    store.ping().await.unwrap();
    let fresh = store.horizon().await.unwrap();
    assert_eq!((fresh.pruned_through, fresh.tip), (0, 0));

    // Stores: found by the hashes of their key and feed token, never by the other's.
    let key = tokens::new_token(tokens::STORE_KEY_PREFIX);
    let feed = tokens::new_token(tokens::FEED_TOKEN_PREFIX);
    let st = NewStore {
        id: tokens::new_store_id(),
        key_hash: tokens::hash_secret(&key),
        feed_token_hash: tokens::hash_secret(&feed),
        created: rig::now(),
    };
    store.create_store(&st).await.unwrap();
    assert_eq!(
        store.store_by_key(st.key_hash).await.unwrap(),
        Some(st.id.clone())
    );
    assert_eq!(
        store.store_by_feed_token(st.feed_token_hash).await.unwrap(),
        Some(st.id.clone())
    );
    assert_eq!(store.store_by_key(st.feed_token_hash).await.unwrap(), None);
    assert_eq!(
        store
            .store_by_feed_token(tokens::hash("hft_nope"))
            .await
            .unwrap(),
        None
    );

    // Doorbells: one per (scope, event id); the same event id in another scope is its own.
    let mut wake = store.wakeups();
    let t0 = rig::now() - 1000;
    let a = Target::Account("acct_1A".into());
    let b = Target::Account("acct_1B".into());
    let s = Target::Store(st.id.clone());
    assert!(
        store
            .ring(doorbell(a.clone(), false, "evt_1", t0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ring(doorbell(a.clone(), false, "evt_1", t0 + 5))
            .await
            .unwrap()
    );
    assert!(
        store
            .ring(doorbell(b.clone(), false, "evt_1", t0))
            .await
            .unwrap()
    );
    assert!(
        store
            .ring(doorbell(a.clone(), true, "evt_2", t0 + 10))
            .await
            .unwrap()
    );
    assert!(
        store
            .ring(doorbell(s.clone(), false, "evt_3", t0 + 20))
            .await
            .unwrap()
    );
    assert!(
        store
            .ring(doorbell(a.clone(), false, "evt_4", t0 + 30))
            .await
            .unwrap()
    );

    // Every new doorbell woke its scope, in order; the duplicate woke nobody.
    let mut keys = Vec::new();
    while keys.len() < 5 {
        let k = tokio::time::timeout(Duration::from_secs(5), wake.recv())
            .await
            .expect("a wake-up per new doorbell")
            .unwrap();
        if &*k != WAKE_ALL {
            keys.push(k.to_string());
        }
    }
    let a_test = Scope::Account {
        account: "acct_1A".into(),
        livemode: false,
    };
    let a_live = Scope::Account {
        account: "acct_1A".into(),
        livemode: true,
    };
    let s_scope = Scope::Store {
        store: st.id.clone(),
    };
    assert_eq!(
        keys,
        vec![
            a_test.wake_key(),
            Scope::Account {
                account: "acct_1B".into(),
                livemode: false
            }
            .wake_key(),
            a_live.wake_key(),
            s_scope.wake_key(),
            a_test.wake_key(),
        ]
    );

    // A scope reads its own doorbells only, oldest first, after a cursor, page by page.
    let test_a = store.after(&a_test, 0, 100).await.unwrap();
    let ids: Vec<&str> = test_a
        .iter()
        .map(|d| d.doorbell.event_id.as_str())
        .collect();
    assert_eq!(ids, ["evt_1", "evt_4"]);
    assert!(test_a[0].cursor < test_a[1].cursor);
    assert_eq!(test_a[0].doorbell, doorbell(a.clone(), false, "evt_1", t0));
    let page = store.after(&a_test, 0, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    let rest = store.after(&a_test, page[0].cursor, 100).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].doorbell.event_id, "evt_4");
    let live_a = store.after(&a_live, 0, 100).await.unwrap();
    assert_eq!(live_a.len(), 1);
    assert!(live_a[0].doorbell.livemode);
    let of_store = store.after(&s_scope, 0, 100).await.unwrap();
    assert_eq!(of_store.len(), 1);
    assert_eq!(of_store[0].doorbell.target, s);

    // Retention: rows received before the cutoff go, the mark remembers the highest cursor.
    let tip = store.horizon().await.unwrap().tip;
    assert_eq!(tip, test_a[1].cursor);
    let removed = store.prune(t0 + 15).await.unwrap();
    assert_eq!(removed, Some(3));
    let h = store.horizon().await.unwrap();
    assert_eq!(h.tip, tip);
    assert_eq!(h.pruned_through, live_a[0].cursor);
    assert!(
        h.needs_resync(0),
        "a cursor below what was pruned must resync"
    );
    assert!(!h.needs_resync(h.pruned_through));
    assert!(!h.needs_resync(tip));
    assert!(
        h.needs_resync(tip + 1),
        "a cursor this database never issued must resync"
    );
    let left = store.after(&a_test, 0, 100).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].doorbell.event_id, "evt_4");

    // A cursor is never issued twice, even after the newest row was pruned.
    store.prune(rig::now() + 10).await.unwrap();
    assert!(
        store
            .ring(doorbell(a.clone(), false, "evt_5", rig::now()))
            .await
            .unwrap()
    );
    let again = store.after(&a_test, 0, 100).await.unwrap();
    assert!(again[0].cursor > tip);

    // The same doorbell rung many times at once (one group commit on PostgreSQL): one is new.
    let same = doorbell(b.clone(), true, "evt_concurrent", rig::now());
    let rings = (0..32).map(|_| store.ring(same.clone()));
    let answers = futures_util::future::join_all(rings).await;
    let new = answers.into_iter().filter(|a| *a.as_ref().unwrap()).count();
    assert_eq!(
        new, 1,
        "exactly one of 32 concurrent equal doorbells is new"
    );

    grants_and_claims(&store).await;
}

/// Connect grants: taken once, never after they expired, swept; abandoned store
/// registrations go, claimed ones (their feed was opened) stay.
async fn grants_and_claims<S: Store>(store: &S) {
    let now = rig::now();
    store
        .put_grant([1; 32], vec![7; 40], now + 60)
        .await
        .unwrap();
    store
        .put_grant([2; 32], vec![8; 40], now - 1)
        .await
        .unwrap();
    assert_eq!(
        store.take_grant([1; 32], now).await.unwrap(),
        TakenGrant::Fresh(vec![7; 40])
    );
    assert_eq!(
        store.take_grant([1; 32], now).await.unwrap(),
        TakenGrant::Missing
    );
    assert_eq!(
        store.take_grant([2; 32], now).await.unwrap(),
        TakenGrant::Expired,
        "an expired grant is refused as expired, and removed"
    );
    assert_eq!(
        store.take_grant([2; 32], now).await.unwrap(),
        TakenGrant::Missing
    );
    store
        .put_grant([3; 32], vec![9; 40], now + 1)
        .await
        .unwrap();
    store
        .put_grant([4; 32], vec![9; 40], now + 60)
        .await
        .unwrap();
    assert_eq!(store.prune_grants(now + 5).await.unwrap(), 1);
    assert_eq!(
        store.take_grant([4; 32], now).await.unwrap(),
        TakenGrant::Fresh(vec![9; 40]),
        "a grant within its lifetime is not swept"
    );

    let register = |created: i64| {
        let key = tokens::new_token(tokens::STORE_KEY_PREFIX);
        let feed = tokens::new_token(tokens::FEED_TOKEN_PREFIX);
        NewStore {
            id: tokens::new_store_id(),
            key_hash: tokens::hash_secret(&key),
            feed_token_hash: tokens::hash_secret(&feed),
            created,
        }
    };
    let (abandoned, claimed, young) = (register(now - 100), register(now - 100), register(now));
    for st in [&abandoned, &claimed, &young] {
        store.create_store(st).await.unwrap();
    }
    store
        .store_by_feed_token(claimed.feed_token_hash)
        .await
        .unwrap();
    assert_eq!(store.prune_unclaimed_stores(now - 10).await.unwrap(), 1);
    assert_eq!(store.store_by_key(abandoned.key_hash).await.unwrap(), None);
    assert!(
        store
            .store_by_key(claimed.key_hash)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.store_by_key(young.key_hash).await.unwrap().is_some());
}

#[tokio::test]
async fn the_embedded_store_keeps_the_storage_rules() {
    let dir = rig::data_dir();
    suite(SqliteStore::open(&dir.path().join("hub.db")).unwrap()).await;
}

#[tokio::test]
async fn postgresql_keeps_the_storage_rules() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    suite(rig::pg_store(&url).await).await;
}

#[tokio::test]
async fn an_embedded_store_reopens_with_its_rows() {
    let dir = rig::data_dir();
    let path = dir.path().join("hub.db");
    let s = SqliteStore::open(&path).unwrap();
    assert!(
        s.ring(doorbell(
            Target::Account("acct_1A".into()),
            false,
            "evt_1",
            rig::now()
        ))
        .await
        .unwrap()
    );
    drop(s);
    let s = SqliteStore::open(&path).unwrap();
    assert!(
        !s.ring(doorbell(
            Target::Account("acct_1A".into()),
            false,
            "evt_1",
            rig::now()
        ))
        .await
        .unwrap()
    );
}

#[tokio::test]
async fn postgresql_replicas_migrate_together_and_share_rows_and_wake_ups() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    // Two replicas start at once: the migration runs once, under its lock.
    let (a, b) = tokio::join!(rig::pg_store(&url), rig::pg_store(&url));
    let mut wake_b = b.wakeups();
    let scope = Scope::Account {
        account: "acct_1R".into(),
        livemode: true,
    };
    assert!(
        a.ring(doorbell(
            Target::Account("acct_1R".into()),
            true,
            "evt_r",
            rig::now()
        ))
        .await
        .unwrap()
    );
    let key = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let k = wake_b.recv().await.unwrap();
            if &*k != WAKE_ALL {
                return k;
            }
        }
    })
    .await
    .expect("replica B is woken by replica A's doorbell");
    assert_eq!(&*key, scope.wake_key());
    assert_eq!(b.after(&scope, 0, 10).await.unwrap().len(), 1);
    // Retention at both at once: one of them prunes (or both in turn), never an error.
    let (pa, pb) = tokio::join!(a.prune(rig::now() + 10), b.prune(rig::now() + 10));
    let removed: u64 = [pa.unwrap(), pb.unwrap()].into_iter().flatten().sum();
    assert_eq!(removed, 1);
}

/// A database of the first schema (before grants and claims) migrates, and the stores it
/// held count as claimed: an upgrade removes no one's registration.
#[tokio::test]
async fn an_embedded_store_of_the_first_schema_migrates_and_keeps_its_stores() {
    let dir = rig::data_dir();
    let path = dir.path().join("hub.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../../migrations/sqlite/V1__init.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO stores (id, key_hash, feed_token_hash, created) VALUES ('st_old', ?1, ?2, 1)",
            rusqlite::params![[1u8; 32].as_slice(), [2u8; 32].as_slice()],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.prune_unclaimed_stores(rig::now()).await.unwrap(), 0);
    assert_eq!(
        store.store_by_key([1; 32]).await.unwrap().as_deref(),
        Some("st_old")
    );
    store
        .put_grant([3; 32], vec![1], rig::now() + 60)
        .await
        .unwrap();
}
