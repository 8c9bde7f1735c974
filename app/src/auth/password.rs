//! Password hashing with argon2id (PHC strings, per-password salt).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;
use std::sync::LazyLock;

/// Hashes a password for storage.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing in particular, verified against when the email is unknown so that
/// a failed sign-in takes as long whether or not the account exists.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash("dummy password for timing"));
    let _ = verify(password, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = hash("actioncenter");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("actioncenter", &h));
        assert!(!verify("actioncenteR", &h));
        assert!(!verify("actioncenter", "not a phc string"));
    }

    #[test]
    fn two_hashes_of_one_password_differ() {
        assert_ne!(hash("same"), hash("same"));
    }
}
