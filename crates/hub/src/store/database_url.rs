//! Where the hub keeps its rows, as given on the command line or in
//! `FLUXSTORE_HUB_DATABASE_URL`.
//!
//! Invariant: a URL's password never leaves this module in text — not in `Debug`, not in
//! [`DatabaseUrl::describe`], not in an error (the errors never repeat the URL).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::postgres::POOL_TIMEOUT;

/// Where the hub keeps its rows: `postgres://…` (or `postgresql://…`), or `sqlite:PATH`.
/// `Debug` and [`DatabaseUrl::describe`] never show a password.
#[derive(Clone)]
pub enum DatabaseUrl {
    Postgres(Box<tokio_postgres::Config>),
    Sqlite(PathBuf),
}

/// A database URL that could not be read. Never repeats the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "the database URL must start with postgres:// (or postgresql://) for PostgreSQL, or sqlite: followed by a file path"
    )]
    Scheme,
    #[error(
        "the PostgreSQL URL could not be read; the form is postgres://USER@HOST:PORT/DATABASE (a password belongs in FLUXSTORE_HUB_DATABASE_URL, never on the command line)"
    )]
    Postgres,
    #[error("sqlite: must be followed by the path of the database file")]
    SqlitePath,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let mut config =
                tokio_postgres::Config::from_str(text).map_err(|_| DatabaseUrlError::Postgres)?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(POOL_TIMEOUT);
            }
            config.application_name("fluxstore-hub");
            Ok(DatabaseUrl::Postgres(Box::new(config)))
        } else if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(DatabaseUrlError::SqlitePath);
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else {
            Err(DatabaseUrlError::Scheme)
        }
    }

    /// Whether the URL carries a password (which must then not come from argv).
    pub fn has_password(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(c) if c.get_password().is_some())
    }

    /// Where the rows live, for the log: host, port and database, never user or password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("SQLite file {}", path.display()),
            DatabaseUrl::Postgres(c) => {
                let host = c
                    .get_hosts()
                    .first()
                    .map(|h| match h {
                        tokio_postgres::config::Host::Tcp(h) => h.clone(),
                        #[cfg(unix)]
                        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                    })
                    .unwrap_or_else(|| "localhost".to_owned());
                let port = c.get_ports().first().copied().unwrap_or(5432);
                let db = c.get_dbname().unwrap_or("(default)");
                format!("PostgreSQL {host}:{port}/{db}")
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url = DatabaseUrl::parse("postgres://hub:s3cr3t-pw@127.0.0.1:55432/hub").unwrap();
        assert!(url.has_password());
        for text in [url.describe(), format!("{url:?}")] {
            assert!(!text.contains("s3cr3t-pw"), "{text}");
            assert_eq!(text, "PostgreSQL 127.0.0.1:55432/hub");
        }
        let e = DatabaseUrl::parse("mysql://hub:s3cr3t-pw@h/db").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t-pw"));
        assert!(
            !DatabaseUrl::parse("postgres://hub@127.0.0.1/hub")
                .unwrap()
                .has_password()
        );
        assert!(matches!(
            DatabaseUrl::parse("sqlite:/var/lib/hub/hub.db"),
            Ok(DatabaseUrl::Sqlite(p)) if p == std::path::Path::new("/var/lib/hub/hub.db")
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite:").unwrap_err(),
            DatabaseUrlError::SqlitePath
        );
    }
}
