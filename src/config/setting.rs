//! How one setting's Rust type reads its value, from the TOML file or from an NCPEH_* variable,
//! and how `ncpeh config check` shows it. The field's type decides; nothing is guessed.

use std::path::PathBuf;
use std::time::Duration;

/// A value of one setting. Errors are messages for the operator; the caller adds the key.
pub trait Setting: Sized {
    fn from_toml(v: &toml::Value) -> Result<Self, String>;
    fn from_env(s: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

/// Where a value comes from.
#[derive(Clone, Copy)]
pub enum Raw<'a> {
    File(&'a toml::Value),
    Env(&'a str),
}

impl Raw<'_> {
    pub fn parse<T: Setting>(self) -> Result<T, String> {
        match self {
            Raw::File(v) => T::from_toml(v),
            Raw::Env(s) => T::from_env(s),
        }
    }
}

fn expected(what: &str, v: &toml::Value) -> String {
    format!("expected {what}, found {}", v.type_str())
}

fn toml_str(v: &toml::Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| expected("a string", v))
}

impl Setting for String {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        toml_str(v).map(str::to_string)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Ok(s.to_string())
    }
    fn show(&self) -> String {
        format!("{self:?}")
    }
}

impl Setting for bool {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        v.as_bool().ok_or_else(|| expected("true or false", v))
    }
    fn from_env(s: &str) -> Result<Self, String> {
        match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("expected true or false, found {s:?}")),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// Why a whole number does not fit its type.
fn out_of_range(i: i128, max: impl std::fmt::Display) -> String {
    if i < 0 {
        "must not be negative".into()
    } else {
        format!("must be at most {max}")
    }
}

macro_rules! whole_number {
    ($($t:ty),*) => {$(
        impl Setting for $t {
            fn from_toml(v: &toml::Value) -> Result<Self, String> {
                let i = v.as_integer().ok_or_else(|| expected("a whole number", v))?;
                <$t>::try_from(i).map_err(|_| out_of_range(i.into(), <$t>::MAX))
            }
            fn from_env(s: &str) -> Result<Self, String> {
                match (s.parse::<$t>(), s.parse::<i128>()) {
                    (Ok(v), _) => Ok(v),
                    (Err(_), Ok(i)) => Err(out_of_range(i, <$t>::MAX)),
                    (Err(_), Err(_)) => Err(format!("expected a whole number, found {s:?}")),
                }
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
whole_number!(u32, u64, usize);

/// Durations are whole seconds in the file (their keys end in `_secs`).
impl Setting for Duration {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        u64::from_toml(v).map(Duration::from_secs)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        u64::from_env(s).map(Duration::from_secs)
    }
    fn show(&self) -> String {
        self.as_secs().to_string()
    }
}

impl Setting for PathBuf {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        toml_str(v).and_then(Self::from_env)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("must not be an empty path".into());
        }
        Ok(PathBuf::from(s))
    }
    fn show(&self) -> String {
        format!("{:?}", self.display().to_string())
    }
}

/// TOML has no null: a key that is there is `Some`. An empty variable unsets the value.
impl<T: Setting> Setting for Option<T> {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        T::from_toml(v).map(Some)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(None);
        }
        T::from_env(s).map(Some)
    }
    fn show(&self) -> String {
        match self {
            Some(v) => v.show(),
            None => "(unset)".into(),
        }
    }
}

/// An array of strings in the file; comma-separated in a variable.
impl Setting for Vec<String> {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        let a = v
            .as_array()
            .ok_or_else(|| expected("an array of strings", v))?;
        a.iter()
            .enumerate()
            .map(|(i, e)| {
                toml_str(e)
                    .map(str::to_string)
                    .map_err(|m| format!("[{i}]: {m}"))
            })
            .collect()
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Ok(s.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect())
    }
    fn show(&self) -> String {
        format!("{self:?}")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Setting for LogFormat {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        toml_str(v).and_then(Self::from_env)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        match s {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("must be \"pretty\" or \"json\", not {s:?}")),
        }
    }
    fn show(&self) -> String {
        match self {
            LogFormat::Pretty => "\"pretty\"".into(),
            LogFormat::Json => "\"json\"".into(),
        }
    }
}
