//! Reading keys without putting them on the command line: a key file, standard input, or a
//! terminal prompt with echo off.
use std::io::{BufRead, Write};
use std::path::Path;

use fluxstore_gateway::{ApiKey, ProfileError};

pub fn read_key_file(path: &Path) -> Result<ApiKey, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ProfileError::Invalid(format!(
            "The key file {} could not be read ({}).",
            path.display(),
            e.kind()
        ))
    })?;
    Ok(ApiKey::parse(&text)?)
}

/// Read one value; on a terminal, prompt with echo off (Unix `stty`) so the key is not shown.
pub fn read_value(
    input: &mut dyn BufRead,
    interactive: bool,
    prompt: &str,
) -> Result<Option<String>, ProfileError> {
    if interactive {
        eprint!("{prompt}: ");
        let _ = std::io::stderr().flush();
    }
    let hide = interactive && cfg!(unix);
    if hide {
        stty("-echo");
    }
    let mut line = String::new();
    let read = input.read_line(&mut line);
    if hide {
        stty("echo");
        eprintln!();
    }
    match read {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(line.trim().to_owned())),
        Err(_) => Err(ProfileError::Invalid(
            "The keys could not be read from the input.".to_owned(),
        )),
    }
}

fn stty(setting: &str) {
    let _ = std::process::Command::new("stty")
        .arg(setting)
        .stdin(std::process::Stdio::inherit())
        .status();
}
