//! The 31-symbol alphabet of serials and case codes, and their mod-31 check character.
//!
//! See `docs/codes.md` § "Alphabet and check character": with `v_i` the value of the i-th
//! character (1-based, check character included), `sum(i * v_i) ≡ 0 (mod 31)`. Every single
//! substitution and every adjacent transposition of distinct symbols is caught.

/// The alphabet, in value order: Crockford's base-32 set without `Z`.
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKMNPQRSTVWXY";

/// The alphabet's size, the modulus of the check character.
pub const BASE: u64 = 31;

/// Value table indexed by ASCII byte; `NONE` for bytes outside the alphabet.
const NONE: u8 = 0xFF;
const VALUES: [u8; 256] = {
    let mut table = [NONE; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        let c = ALPHABET[i];
        table[c as usize] = i as u8;
        table[c.to_ascii_lowercase() as usize] = i as u8;
        i += 1;
    }
    table
};

/// The value of a symbol, read case-insensitively; `None` outside the alphabet.
pub fn value(c: u8) -> Option<u8> {
    match VALUES[c as usize] {
        NONE => None,
        v => Some(v),
    }
}

/// The symbol for a value `0..31`.
///
/// # Panics
/// If `v >= 31` (a bug in the caller: values come from `% 31`).
pub fn symbol(v: u8) -> u8 {
    ALPHABET[v as usize]
}

/// The check character for `body`, which must already be upper-case alphabet symbols; the check
/// character goes at position `body.len() + 1`.
pub fn check_char(body: &[u8]) -> u8 {
    let n = body.len() as u64 + 1;
    let partial = weighted_sum(body);
    // Solve partial + n·c ≡ 0 (mod 31): c = −partial · n⁻¹, with n⁻¹ = n^29 (Fermat).
    let c = ((BASE - partial % BASE) % BASE) * pow_mod(n % BASE, BASE - 2) % BASE;
    symbol(c as u8)
}

/// Whether `code` (any case) consists of alphabet symbols and its check character is right.
/// Callers that want to tell "bad character" from "bad check" use [`first_invalid`] first.
pub fn check_ok(code: &[u8]) -> bool {
    first_invalid(code).is_none() && weighted_sum(code) % BASE == 0
}

/// The 0-based position of the first byte that is not an alphabet symbol, if any.
pub fn first_invalid(code: &[u8]) -> Option<usize> {
    code.iter().position(|&c| value(c).is_none())
}

/// Writes `n` in base 31 into `out`, most significant symbol first, zero-padded to `out.len()`.
/// Returns `false` (leaving `out` unspecified) if `n` does not fit.
pub fn encode_fixed(mut n: u64, out: &mut [u8]) -> bool {
    for slot in out.iter_mut().rev() {
        *slot = symbol((n % BASE) as u8);
        n /= BASE;
    }
    n == 0
}

/// Reads a base-31 number from symbols already known to be valid.
pub fn decode_fixed(symbols: &[u8]) -> u64 {
    symbols
        .iter()
        .fold(0, |acc, &c| acc * BASE + u64::from(value(c).unwrap_or(0)))
}

/// Upper-cases alphabet symbols in place (the printed form).
pub fn to_upper(code: &mut [u8]) {
    code.make_ascii_uppercase();
}

fn weighted_sum(code: &[u8]) -> u64 {
    code.iter()
        .enumerate()
        .map(|(i, &c)| (i as u64 + 1) * u64::from(value(c).unwrap_or(0)))
        .sum()
}

fn pow_mod(mut b: u64, mut e: u64) -> u64 {
    let mut r = 1;
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % BASE;
        }
        b = b * b % BASE;
        e >>= 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_has_no_ambiguous_letters() {
        for c in b"ILOUZ" {
            assert!(value(*c).is_none());
            assert!(value(c.to_ascii_lowercase()).is_none());
        }
        assert_eq!(value(b'y'), Some(30));
    }

    #[test]
    fn check_char_makes_the_sum_zero() {
        for body in [&b"ABCDEFGH0000001"[..], b"0", b"", b"YYYYYYYYYYYYYYYYYYY"] {
            let mut code = body.to_vec();
            code.push(check_char(body));
            assert!(check_ok(&code), "{}", String::from_utf8_lossy(&code));
        }
    }

    #[test]
    fn fixed_width_round_trips() {
        let mut buf = [0u8; 7];
        assert!(encode_fixed(27_512_614_110, &mut buf));
        assert_eq!(&buf, b"YYYYYYY");
        assert_eq!(decode_fixed(&buf), 27_512_614_110);
        assert!(!encode_fixed(27_512_614_111, &mut buf));
    }
}
