//! Running the real `fluxstore` binary: a `serve` child that is always reaped, its output
//! captured for inspection, and one-shot commands.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fluxstore_test_support::stripe_fake::{StripeFake, TEST_SECRET_KEY};
use fluxstore_test_support::wait_until_blocking;

pub const SECRET: &str = "whsec_cliSuiteSecret4f7a9c21e0b34d5f";
pub const WRONG_SECRET: &str = "whsec_cliSuiteWrongSecret77aa0011ee";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_fluxstore")
}

/// A secret file readable only by its owner.
/// A secret file holding `text` as a test-mode secret (`test whsec_…`).
pub fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    secret_file_lines(dir, name, &format!("test {text}\n"))
}

/// A secret file with exactly these lines (mode 0600).
pub fn secret_file_lines(dir: &Path, name: &str, lines: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, lines).expect("write secret file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("FLUXSTORE_DB")
        .stdin(Stdio::null())
        .output()
        .expect("fluxstore runs")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A `fluxstore serve` child. Dropping it kills it (SIGKILL) and reaps it.
pub struct Server {
    pub child: Child,
    pub url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Start on a free port with the given extra arguments; waits (bounded) for the URL.
    pub fn start(
        db: &Path,
        extra: &[&str],
        stdin_text: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("FLUXSTORE_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin_text.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("serve starts");
        if let Some(text) = stdin_text {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(text.as_bytes()).expect("write stdin");
            // Closing stdin ends the secret input.
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (url_tx, url_rx) = mpsc::channel();
        let out_pipe = child.stdout.take().expect("stdout");
        let out_buf = stdout.clone();
        let out_reader = std::thread::spawn(move || {
            let mut url = None;
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                {
                    let mut buf = out_buf.lock().expect("lock");
                    buf.push_str(&line);
                    buf.push('\n');
                }
                if let Some(found) = line.trim().strip_prefix("Webhook URL: ") {
                    url = Some(found.to_string());
                }
                // The banner's last line: everything above it is in the buffer now.
                if line.starts_with("Stop with")
                    && let Some(url) = url.take()
                {
                    let _ = url_tx.send(url);
                }
            }
        });
        let mut err_pipe = child.stderr.take().expect("stderr");
        let err_buf = stderr.clone();
        let err_reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                err_buf
                    .lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        };
        match url_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => server.url = url,
            Err(_) => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                panic!(
                    "serve did not print its URL; stderr: {}",
                    server.stderr.lock().expect("lock")
                );
            }
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait (bounded) for a clean exit; returns (stdout, stderr).
    pub fn terminate(mut self) -> (bool, String, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let mut success = false;
        wait_until_blocking(Duration::from_secs(30), || match self.child.try_wait() {
            Ok(Some(status)) => {
                success = status.success();
                true
            }
            _ => false,
        });
        self.finish();
        (success, self.stdout(), self.stderr())
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill_hard(mut self) -> (String, String) {
        self.finish();
        (self.stdout(), self.stderr())
    }

    fn finish(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().expect("lock").clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A key-mode owner for one-shot commands: a data folder, and the test secret key in a 0600
/// file, against the Stripe fake at `api_base`. Each suite adds the commands it runs.
pub struct Owner {
    pub data: tempfile::TempDir,
    _keys: tempfile::TempDir,
    pub key_file: PathBuf,
    pub api_base: String,
}

impl Owner {
    pub fn new(fake: &StripeFake) -> Owner {
        let keys = tempfile::tempdir().expect("dir");
        let key_file = secret_file_lines(keys.path(), "key", &format!("{TEST_SECRET_KEY}\n"));
        Owner {
            data: tempfile::tempdir().expect("dir"),
            _keys: keys,
            key_file,
            api_base: fake.base_url(),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.data.path().join("mirror.sqlite3")
    }
}
