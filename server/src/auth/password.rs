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

/// The prefix of a generated one-time password's stored hash (see [`hash_generated`]).
const GENERATED: &str = "$cm-otp-sha256$";

/// The stored hash of a password this server generated (a bulk import's one-time passwords):
/// salted SHA-256 instead of argon2. Argon2's cost protects passwords people choose; a generated
/// one carries ~92 random bits ([`generate_password`]), which no guessing reaches whatever the
/// hash's speed, and argon2 at ~30 ms a hash would make a 100,000-agent import take most of an
/// hour. It must be changed at first sign-in, when it gets an argon2 hash like any other.
pub fn hash_generated(password: &str) -> String {
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let digest = Sha256::new()
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize();
    format!(
        "{GENERATED}{}${}",
        data_encoding::HEXLOWER.encode(&salt),
        data_encoding::HEXLOWER.encode(&digest)
    )
}

fn verify_generated(password: &str, rest: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    // As slow as an argon2 check, so the time of a sign-in does not tell which accounts still
    // hold an imported one-time password.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash_checked(&generate_password()).unwrap_or_default());
    if let Ok(parsed) = PasswordHash::new(decoy) {
        let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
    }
    let Some((salt, digest)) = rest.split_once('$') else {
        return false;
    };
    let (Ok(salt), Ok(digest)) = (
        data_encoding::HEXLOWER.decode(salt.as_bytes()),
        data_encoding::HEXLOWER.decode(digest.as_bytes()),
    ) else {
        return false;
    };
    let computed = Sha256::new()
        .chain_update(&salt)
        .chain_update(password.as_bytes())
        .finalize();
    computed.as_slice().ct_eq(&digest).into()
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if let Some(rest) = stored.strip_prefix(GENERATED) {
        return verify_generated(password, rest);
    }
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
    generate_password_with(&mut OsRng)
}

/// [`generate_password`] from a given cryptographic generator (a bulk import draws 100,000 of
/// them from one seeded ChaCha instead of 1.6 million system calls).
pub fn generate_password_with(rng: &mut (impl rand::RngCore + rand::CryptoRng)) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
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
    fn generated_password_hashes_verify_and_differ() {
        let pw = generate_password();
        let a = hash_generated(&pw);
        let b = hash_generated(&pw);
        assert_ne!(a, b, "salted");
        assert!(verify_password(&pw, &a));
        assert!(!verify_password("not the password", &a));
        assert!(!verify_password(&pw, "$cm-otp-sha256$zz$zz"));
        assert!(!verify_password(&pw, "$cm-otp-sha256$"));
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
