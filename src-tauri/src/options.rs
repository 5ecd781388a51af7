//! The app's command-line flags: `--data-dir PATH` (use this folder instead of the platform's
//! app-data folder) and `--sample-store` (open the sample store at start).
//!
//! Invariant: unknown flags are ignored with a log line rather than refusing to start, because
//! desktop launchers and WebDriver add their own.
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub data_dir: Option<PathBuf>,
    pub sample_store: bool,
}

impl Options {
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Options {
        let mut options = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if let Some(dir) = arg.strip_prefix("--data-dir=") {
                options.data_dir = Some(PathBuf::from(dir));
            } else if arg == "--data-dir" {
                options.data_dir = args.next().map(PathBuf::from);
            } else if arg == "--sample-store" {
                options.sample_store = true;
            } else {
                tracing::info!(argument = %arg, "ignoring an unknown command-line argument");
            }
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::Options;
    use std::path::PathBuf;

    fn parse(args: &[&str]) -> Options {
        Options::from_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn flags() {
        assert_eq!(parse(&[]), Options::default());
        assert_eq!(
            parse(&["--data-dir", "/tmp/x", "--sample-store"]),
            Options {
                data_dir: Some(PathBuf::from("/tmp/x")),
                sample_store: true
            }
        );
        assert_eq!(
            parse(&["--data-dir=/d"]).data_dir,
            Some(PathBuf::from("/d"))
        );
        assert!(parse(&["-psn_0_1", "--sample-store"]).sample_store);
    }
}
