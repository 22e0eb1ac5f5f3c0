//! Lower-case hexadecimal, the one encoding lockstep writes digests in.

/// `bytes` as lower-case hex.
///
/// ```
/// assert_eq!(lockstep_state::hex::encode(&[0x00, 0xab, 0xff]), "00abff");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes lower- or upper-case hex; `None` for an odd length or a non-hex digit.
///
/// ```
/// assert_eq!(lockstep_state::hex::decode("00AbfF"), Some(vec![0x00, 0xab, 0xff]));
/// assert_eq!(lockstep_state::hex::decode("abc"), None);
/// ```
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    bytes
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
