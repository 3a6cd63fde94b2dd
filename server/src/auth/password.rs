//! Password hashing with argon2id (the crate's defaults follow OWASP's current advice), and the
//! rule a new password must pass: long enough, not the user's name, and not easy to guess as
//! estimated by `zxcvbn` (common passwords and words, repeats, sequences, keyboard rows, dates).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;

use crate::error::{Error, Result};

pub const MIN_PASSWORD_LEN: usize = 10;

/// The least `zxcvbn` score accepted: 3 is "safely unguessable" (about 10^8 guesses or more);
/// 0–2 are the common, repeated and patterned passwords a guesser tries first.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Why a password is refused; each has a stable code (the API's error code) and is worded in
/// both languages on the pages (`web::i18n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_LEN`] characters.
    TooShort,
    /// It is, or contains, the account's user name (or the name contains it).
    ContainsUsername,
    /// A common password, a word or name by itself, or a slight variation of one.
    TooCommon,
    /// Repeats (`aaaa`), sequences (`1234`, `abcd`), keyboard rows (`qwerty`), dates or years.
    TooPredictable,
}

impl PasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password_too_short",
            PasswordProblem::ContainsUsername => "password_contains_username",
            PasswordProblem::TooCommon => "password_too_common",
            PasswordProblem::TooPredictable => "password_too_predictable",
        }
    }

    /// In English, for the API's message and logs.
    pub fn message(self) -> String {
        match self {
            PasswordProblem::TooShort => {
                format!("password too short: use at least {MIN_PASSWORD_LEN} characters")
            }
            PasswordProblem::ContainsUsername => {
                "password too easy to guess: it contains the user name".into()
            }
            PasswordProblem::TooCommon => "password too easy to guess: it is a common password \
                 or word, or close to one; use a few uncommon words"
                .into(),
            PasswordProblem::TooPredictable => "password too easy to guess: repeats, sequences \
                 (1234, abcd), keyboard rows or dates are tried first; use a few uncommon words"
                .into(),
        }
    }
}

/// Hashes a new password after checking it (without a user name: see [`check_new_password`]).
pub fn hash_password(password: &str) -> Result<String> {
    check_strength(password)?;
    hash_checked(password)
}

/// Hashes a password already checked with [`check_new_password`].
pub fn hash_checked(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The rule for a new password, without knowing whose it is.
pub fn check_strength(password: &str) -> Result<()> {
    check_new_password(password, &[])
}

/// The rule for a new password of the account named `names` (user name, display name).
pub fn check_new_password(password: &str, names: &[&str]) -> Result<()> {
    problem(password, names).map_or(Ok(()), |p| Err(Error::WeakPassword(p)))
}

fn problem(password: &str, names: &[&str]) -> Option<PasswordProblem> {
    if password.trim().chars().count() < MIN_PASSWORD_LEN {
        return Some(PasswordProblem::TooShort);
    }
    let lower = password.to_lowercase();
    let names: Vec<String> = names
        .iter()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| n.chars().count() >= 3)
        .collect();
    if names
        .iter()
        .any(|n| lower.contains(n.as_str()) || n.contains(lower.trim()))
    {
        return Some(PasswordProblem::ContainsUsername);
    }
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MIN_SCORE {
        return None;
    }
    use zxcvbn::feedback::Warning as W;
    Some(match estimate.feedback().and_then(|f| f.warning()) {
        Some(
            W::ThisIsATop10Password
            | W::ThisIsATop100Password
            | W::ThisIsACommonPassword
            | W::ThisIsSimilarToACommonlyUsedPassword
            | W::AWordByItselfIsEasyToGuess
            | W::NamesAndSurnamesByThemselvesAreEasyToGuess
            | W::CommonNamesAndSurnamesAreEasyToGuess,
        ) => PasswordProblem::TooCommon,
        _ => PasswordProblem::TooPredictable,
    })
}

/// A random password for a new account, shown once: 16 characters from an alphabet without
/// look-alikes.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery").expect("hash");
        let b = hash_password("correct horse battery").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterx", &a));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(hash_password("short").is_err());
        assert_eq!(generate_password().len(), 16);
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_reason() {
        use PasswordProblem::*;
        for (password, names, expected) in [
            ("          ", &[][..], TooShort),
            ("aaaaaaaaaaaa", &[], TooPredictable),
            ("123456789012", &[], TooPredictable),
            ("password1234", &[], TooCommon),
            ("warehouse-bob", &["warehouse-bob"][..], ContainsUsername),
            ("Warehouse-Bob!", &["warehouse-bob"][..], ContainsUsername),
        ] {
            assert_eq!(problem(password, names), Some(expected), "{password:?}");
        }
        // A keyboard row: refused (zxcvbn knows it from its common-password list, too).
        assert!(problem("qwertyuiopasdf", &[]).is_some());
        for good in [
            "correct horse battery",
            "test-password-123",
            "ferry lantern oblique 7",
        ] {
            assert_eq!(problem(good, &["alice"]), None, "{good:?}");
        }
        for _ in 0..20 {
            assert_eq!(problem(&generate_password(), &["alice"]), None);
        }
    }
}
