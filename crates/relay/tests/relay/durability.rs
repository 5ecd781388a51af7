//! Storage failures on a real file system: a small tmpfs that fills up, and the same
//! file system remounted read-only. Both must answer 503 (so Stripe retries) and must never
//! acknowledge an event that is not in the database file.
//!
//! Needs root with the right to mount (the CI machine runs as root); without it the test
//! fails with a message saying so rather than passing vacuously.

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxstore_mirror::Mirror;

use crate::support::{BASE, SECRET, TestRelay, error_code, event_id, now, pad};

/// A tmpfs mounted on a temp dir; unmounted on drop, even when a test fails.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("dir");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mounting a tmpfs failed: this test needs root with the right to mount a small file system"
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        // A read-only remount fails with EBUSY while any process holds a file there open
        // for writing; a child forked by a parallel test can briefly hold an inherited
        // descriptor, so retry a bounded number of times.
        let mut last = String::new();
        for _ in 0..50 {
            let out = Command::new("mount")
                .args(["-o", &format!("remount,{options}")])
                .arg(self.path())
                .output()
                .expect("mount runs");
            if out.status.success() {
                return;
            }
            last = String::from_utf8_lossy(&out.stderr).to_string();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("remount {options} failed: {last}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn padded_event(n: i64, bytes: usize) -> Vec<u8> {
    let mut v =
        fluxstore_samples::test_event("checkout.session.completed", false, BASE - 50_000 - n)
            .expect("sample");
    pad(&mut v, bytes);
    serde_json::to_vec(&v).expect("json")
}

fn stored_ids(db: &Path) -> Vec<String> {
    let mirror = Mirror::open_read_only(db).expect("read");
    mirror
        .events(None, 1_000_000)
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_acknowledges_only_what_is_stored() {
    let fs = Tmpfs::mount("1m");
    let db: PathBuf = fs.path().join("mirror.sqlite3");
    let mut relay = TestRelay::start_at(&db, |_| {}).await;

    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    // 30 KB events fill 1 MiB within a few dozen; the bound only guards against a hang.
    for n in 0..400 {
        let body = padded_event(n, 30_000);
        let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
        match status {
            200 => acknowledged.push(event_id(&body)),
            503 => {
                assert_eq!(error_code(&answer), "storage_unavailable", "{answer}");
                refused.push(event_id(&body));
                if refused.len() >= 3 {
                    break;
                }
            }
            other => panic!("unexpected status {other}: {answer}"),
        }
    }
    assert!(!acknowledged.is_empty(), "some events fit");
    assert!(
        !refused.is_empty(),
        "the file system filled up and the relay said 503"
    );

    // Space comes back (the owner cleans up): the relay recovers without a restart, and
    // a retried delivery lands.
    fs.remount("size=64m");
    let retry = padded_event(0, 30_000);
    assert_eq!(event_id(&retry), acknowledged[0]);
    let (status, answer) = relay.post_signed(&retry, SECRET, now()).await;
    assert_eq!((status, answer["duplicate"].as_bool()), (200, Some(true)));
    let late = padded_event(10_000, 30_000);
    let (status, answer) = relay.post_signed(&late, SECRET, now()).await;
    assert_eq!(status, 200, "{answer}");
    relay.shutdown().await;

    let stored = stored_ids(&db);
    for id in &acknowledged {
        assert_eq!(
            stored.iter().filter(|s| *s == id).count(),
            1,
            "acknowledged {id} stored once"
        );
    }
    for id in &refused {
        assert!(
            !stored.contains(id),
            "a refused event was not half-stored: {id}"
        );
    }
    assert!(stored.contains(&event_id(&late)));
    assert_eq!(stored.len(), acknowledged.len() + 1);
}

/// A small ext4 file system on a loop device: unlike tmpfs it enforces the immutable
/// attribute on files that are already open, which is how a running relay's database is made
/// read-only here (Linux refuses to remount read-only while a file is open for writing).
struct Ext4 {
    mounted: PathBuf,
    // Declared last: dropped after `Drop::drop` unmounted, taking the image with it.
    _dir: tempfile::TempDir,
}

impl Ext4 {
    fn mount() -> Ext4 {
        let dir = tempfile::tempdir().expect("dir");
        let image = dir.path().join("fs.img");
        let mounted = dir.path().join("mnt");
        std::fs::create_dir(&mounted).expect("mount point");
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(16 * 1024 * 1024))
            .expect("image");
        let run = |cmd: &mut Command| cmd.status().is_ok_and(|s| s.success());
        assert!(
            run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image)),
            "mkfs.ext4 (e2fsprogs) is needed"
        );
        assert!(
            run(Command::new("mount")
                .args(["-o", "loop"])
                .arg(&image)
                .arg(&mounted)),
            "mounting a loop device failed: this test needs root with the right to mount"
        );
        Ext4 { mounted, _dir: dir }
    }

    fn set_immutable(&self, files: &[PathBuf], on: bool) {
        for file in files.iter().filter(|f| f.exists()) {
            let ok = Command::new("chattr")
                .arg(if on { "+i" } else { "-i" })
                .arg(file)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chattr on {}", file.display());
        }
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.mounted) {
            let files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            for f in files {
                let _ = Command::new("chattr").arg("-i").arg(f).status();
            }
        }
        let _ = Command::new("umount").arg("-l").arg(&self.mounted).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_answers_503() {
    let fs = Ext4::mount();
    let db: PathBuf = fs.mounted.join("mirror.sqlite3");
    let files = [db.clone(), fs.mounted.join("mirror.sqlite3-wal")];
    let mut relay = TestRelay::start_at(&db, |_| {}).await;
    let first = padded_event(1, 3_000);
    let (status, _) = relay.post_signed(&first, SECRET, now()).await;
    assert_eq!(status, 200);

    fs.set_immutable(&files, true);
    let second = padded_event(2, 3_000);
    for _ in 0..2 {
        let (status, answer) = relay.post_signed(&second, SECRET, now()).await;
        assert_eq!(
            (status, error_code(&answer)),
            (503, "storage_unavailable"),
            "{answer}"
        );
    }

    fs.set_immutable(&files, false);
    let (status, answer) = relay.post_signed(&second, SECRET, now()).await;
    assert_eq!(status, 200, "after the file is writable again: {answer}");
    relay.shutdown().await;
    let stored = stored_ids(&db);
    assert_eq!(stored.len(), 2);
    assert!(stored.contains(&event_id(&first)) && stored.contains(&event_id(&second)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_file_system_at_start_is_a_clear_error() {
    let fs = Tmpfs::mount("16m");
    let db: PathBuf = fs.path().join("mirror.sqlite3");
    let mut relay = TestRelay::start_at(&db, |_| {}).await;
    relay.shutdown().await;
    fs.remount("ro");
    let config = fluxstore_relay::RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..fluxstore_relay::RelayConfig::default()
    };
    let err = match fluxstore_relay::Relay::start(config, &db).await {
        Ok(_) => panic!("a relay on a read-only file system must not start"),
        Err(e) => e,
    };
    assert!(
        matches!(err, fluxstore_relay::RelayError::Mirror { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("could not open the mirror database"),
        "{err}"
    );
}

/// The syncer acknowledges an event only after syncing the WAL file SQLite writes. If the
/// file at the WAL's path is no longer that file, a sync of it would prove nothing: the
/// delivery is answered 503 (Stripe retries), and so is every later one, and the relay says
/// it is unhealthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_ahead_log_replaced_under_the_relay_is_never_acknowledged() {
    let mut relay = TestRelay::start().await;
    let first = crate::support::event_body("charge.succeeded", 1);
    let (status, _) = relay.post_signed(&first, SECRET, now()).await;
    assert_eq!(status, 200, "a delivery before the swap is stored");

    let mut wal = relay.db.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    std::fs::rename(&wal, wal.with_extension("sqlite3-wal-moved")).expect("move the WAL");
    std::fs::write(&wal, b"").expect("a stranger file at the WAL's path");

    for n in [2, 3] {
        let body = crate::support::event_body("charge.succeeded", n);
        let (status, v) = relay.post_signed(&body, SECRET, now()).await;
        assert_eq!(status, 503, "delivery {n} must not be acknowledged: {v}");
        assert_eq!(error_code(&v), "storage_unavailable");
    }
    let health = relay
        .client
        .get(format!("http://{}/healthz", relay.addr))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        health.status().as_u16(),
        503,
        "the relay reports itself unhealthy"
    );
    relay.shutdown().await;
}
