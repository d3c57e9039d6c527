use sha2::{Digest, Sha256};

/// The lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `digest` is 64 lower-case hex characters (and so safe to use in a path).
pub fn is_valid_digest(digest: &str) -> bool {
    digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        // sha256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn digests_are_checked_before_use_in_paths() {
        assert!(is_valid_digest(&sha256_hex(b"")));
        assert!(!is_valid_digest("../../etc/passwd"));
        assert!(!is_valid_digest(&sha256_hex(b"").to_uppercase()));
        assert!(!is_valid_digest(&sha256_hex(b"")[1..]));
    }
}
