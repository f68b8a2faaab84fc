//! A settings section is declared once with `section!`: its fields, their defaults, their file
//! keys and their checks. The macro writes the struct, `Default`, and the `Section` impl that
//! reads a key from the file or the environment by the field's type, checks it and shows it.

use super::problems::Problems;
use super::setting::Raw;

pub trait Section {
    /// The file keys of this section.
    fn keys(&self) -> &'static [&'static str];
    /// Sets one key; `None` when the section has no such key.
    fn set(&mut self, key: &str, raw: Raw<'_>) -> Option<Result<(), String>>;
    /// Runs the per-key checks; `at` is the section's dotted path (`server`, `peers[2]`).
    fn check(&self, at: &str, problems: &mut Problems);
    /// (dotted key, value) of every setting.
    fn show(&self, at: &str, out: &mut Vec<(String, String)>);
}

/// Reads every key of one TOML table into `s`, recording bad and unknown keys.
pub fn read_table(s: &mut dyn Section, at: &str, table: &toml::Table, problems: &mut Problems) {
    for (k, v) in table {
        let key = format!("{at}.{k}");
        match s.set(k, Raw::File(v)) {
            Some(Ok(())) => {}
            Some(Err(m)) => problems.push(key, m),
            None => problems.unknown(&key, k, s.keys(), ""),
        }
    }
}

/// `section! { /// doc
///     pub struct Name {
///         /// doc
///         field: Type = default [, key = "file_key"] [, check = callable];
///     } }`
/// The key defaults to the field name; a check is called as `check(&value)` and returns
/// `Result<(), String>`.
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $default:expr
                $(, key = $key:literal)?
                $(, check = $check:expr)?
                ;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $crate::config::section::Section for $name {
            fn keys(&self) -> &'static [&'static str] {
                &[ $( section!(@key $field $(, $key)?) ),* ]
            }

            fn set(
                &mut self,
                key: &str,
                raw: $crate::config::setting::Raw<'_>,
            ) -> Option<Result<(), String>> {
                $(
                    if key == section!(@key $field $(, $key)?) {
                        return Some(raw.parse().map(|v| self.$field = v));
                    }
                )*
                None
            }

            #[allow(unused_variables)]
            fn check(&self, at: &str, problems: &mut $crate::config::problems::Problems) {
                $(
                    let key = section!(@key $field $(, $key)?);
                    $( problems.check(&format!("{at}.{key}"), ($check)(&self.$field)); )?
                )*
            }

            fn show(&self, at: &str, out: &mut Vec<(String, String)>) {
                use $crate::config::setting::Setting;
                $(
                    out.push((
                        format!("{at}.{}", section!(@key $field $(, $key)?)),
                        self.$field.show(),
                    ));
                )*
            }
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident, $key:literal) => { $key };
}
pub(crate) use section;
