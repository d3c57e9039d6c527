//! The form of the request ids Bascule makes: a process's random prefix of
//! [`PREFIX_LEN`] lowercase hex digits, `-`, and a counter as 16 lowercase hex digits
//! (`3f0c9a1b22de-000000000000002a`). The prediction log indexes ids of this form by runs
//! of consecutive counters rather than a row per record; any id of exactly this form,
//! a caller's included, is indexed that way, and any other id gets a row of its own.

/// Hex digits of a generated id's prefix.
pub const PREFIX_LEN: usize = 12;

/// Hex digits of a generated id's counter.
const COUNTER_LEN: usize = 16;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The id numbered `counter` under `prefix` (which must be [`PREFIX_LEN`] lowercase hex
/// digits for the id to be of the generated form).
pub fn generated_request_id(prefix: &str, counter: u64) -> String {
    // By hand: `format!` took more instructions than the rest of a request id's handling.
    let mut id = String::with_capacity(prefix.len() + 1 + COUNTER_LEN);
    id.push_str(prefix);
    id.push('-');
    for shift in (0..COUNTER_LEN).rev() {
        id.push(char::from(HEX[((counter >> (shift * 4)) & 0xf) as usize]));
    }
    id
}

/// The prefix and counter of an id of the generated form, when it is one and its counter
/// fits an `i64` (as the store keeps it); else `None`.
pub fn parse_generated_request_id(id: &str) -> Option<(&str, i64)> {
    let bytes = id.as_bytes();
    if bytes.len() != PREFIX_LEN + 1 + COUNTER_LEN || bytes[PREFIX_LEN] != b'-' {
        return None;
    }
    let digit = |byte: u8| match byte {
        b'0'..=b'9' => Some(u64::from(byte - b'0')),
        b'a'..=b'f' => Some(u64::from(byte - b'a' + 10)),
        _ => None,
    };
    if !bytes[..PREFIX_LEN]
        .iter()
        .all(|&byte| digit(byte).is_some())
    {
        return None;
    }
    let mut counter = 0u64;
    for &byte in &bytes[PREFIX_LEN + 1..] {
        counter = counter << 4 | digit(byte)?;
    }
    let counter = i64::try_from(counter).ok()?;
    Some((&id[..PREFIX_LEN], counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_to_their_prefix_and_counter() {
        for counter in [0, 1, 15, 16, 0x2a, 1 << 40, i64::MAX as u64] {
            let id = generated_request_id("3f0c9a1b22de", counter);
            assert_eq!(id.len(), 29);
            assert_eq!(
                parse_generated_request_id(&id),
                Some(("3f0c9a1b22de", counter as i64)),
                "{id}"
            );
        }
        assert_eq!(
            generated_request_id("3f0c9a1b22de", 0x2a),
            "3f0c9a1b22de-000000000000002a"
        );
    }

    #[test]
    fn ids_of_any_other_form_do_not_parse() {
        let too_big = generated_request_id("3f0c9a1b22de", u64::MAX);
        for id in [
            "",
            "req-1",
            too_big.as_str(),
            "3f0c9a1b22de-000000000000002",
            "3f0c9a1b22de-000000000000002aa",
            "3f0c9a1b22de_000000000000002a",
            "3F0C9A1B22DE-000000000000002a",
            "3f0c9a1b22de-000000000000002A",
            "3f0c9a1b22dg-000000000000002a",
            "3f0c9a1b22de-00000000000000-a",
            "3f0c9a1b22d-0000000000000002a",
            "3f0c9a1b22dé-00000000000002a",
        ] {
            assert_eq!(parse_generated_request_id(id), None, "{id:?}");
        }
    }
}
