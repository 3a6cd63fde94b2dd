//! The journal's on-disk record format (pure: bytes in, bytes out; no I/O).
//!
//! File: a 16-byte header — magic `CMJRNL01`, then the next sequence number at the time the file
//! was written (u64 LE), so sequence numbers survive a compaction that drops every event — then
//! records, each:
//!
//! ```text
//! len: u32 LE (body length) | kind: u8 (1 event, 2 ack) | seq: u64 LE | body | check: 8 bytes
//! ```
//!
//! `check` is the first 8 bytes of SHA-256 over everything before it in the record, so a torn
//! write (power cut mid-record) or garbage after the last record is detected. Event bodies are the
//! signed `ScanEvent` JSON, exactly as published; ack bodies are empty.

use sha2::{Digest, Sha256};

/// File magic and format version.
pub const MAGIC: &[u8; 8] = b"CMJRNL01";
/// Header length: magic + base sequence number.
pub const HEADER_LEN: u64 = 16;
/// Record head: len + kind + seq.
pub const HEAD_LEN: usize = 4 + 1 + 8;
/// Checksum length.
pub const CHECK_LEN: usize = 8;
/// Bodies are at most one wire message; a larger length field means a corrupt head.
pub const MAX_BODY: u32 = crate::wire::MAX_MESSAGE_BYTES as u32;

/// Record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scan event waiting for the server's ack.
    Event,
    /// The server acked the event with this seq.
    Ack,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Event => 1,
            Kind::Ack => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Event),
            2 => Some(Kind::Ack),
            _ => None,
        }
    }
}

/// The file header for a journal whose next sequence number is `next_seq`.
pub fn header(next_seq: u64) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&next_seq.to_le_bytes());
    h
}

/// The base sequence number from a header, or `None` if it is not ours.
pub fn parse_header(h: &[u8]) -> Option<u64> {
    if h.len() != HEADER_LEN as usize || &h[..8] != MAGIC {
        return None;
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&h[8..]);
    Some(u64::from_le_bytes(n))
}

/// Encodes one record.
pub fn encode(kind: Kind, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD_LEN + body.len() + CHECK_LEN);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.push(kind.byte());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(body);
    let check = checksum(&out);
    out.extend_from_slice(&check);
    out
}

/// A decoded record head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Kind.
    pub kind: Kind,
    /// Sequence number.
    pub seq: u64,
    /// Body length.
    pub body_len: usize,
}

impl Head {
    /// Whole record length on disk.
    pub fn record_len(&self) -> usize {
        HEAD_LEN + self.body_len + CHECK_LEN
    }
}

/// Parses a record head; `None` when it cannot be one of ours (unknown kind, absurd length).
pub fn parse_head(h: &[u8; HEAD_LEN]) -> Option<Head> {
    let mut len = [0u8; 4];
    len.copy_from_slice(&h[..4]);
    let body_len = u32::from_le_bytes(len);
    let kind = Kind::from_byte(h[4])?;
    if body_len > MAX_BODY || (kind == Kind::Ack && body_len != 0) {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&h[5..]);
    Some(Head {
        kind,
        seq: u64::from_le_bytes(seq),
        body_len: body_len as usize,
    })
}

/// Whether a whole record (head, body, checksum) is intact.
pub fn verify(record: &[u8]) -> bool {
    if record.len() < HEAD_LEN + CHECK_LEN {
        return false;
    }
    let (data, check) = record.split_at(record.len() - CHECK_LEN);
    checksum(data) == check
}

fn checksum(data: &[u8]) -> [u8; CHECK_LEN] {
    let digest = Sha256::digest(data);
    let mut c = [0u8; CHECK_LEN];
    c.copy_from_slice(&digest[..CHECK_LEN]);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let r = encode(Kind::Event, 7, b"{}");
        assert!(verify(&r));
        let mut head = [0u8; HEAD_LEN];
        head.copy_from_slice(&r[..HEAD_LEN]);
        let h = parse_head(&head).expect("head");
        assert_eq!((h.kind, h.seq, h.record_len()), (Kind::Event, 7, r.len()));
        for i in 0..r.len() {
            let mut bad = r.clone();
            bad[i] ^= 0x40;
            assert!(!verify(&bad), "flip at {i} undetected");
        }
        assert_eq!(parse_header(&header(42)), Some(42));
        assert_eq!(parse_header(b"not a journal..."), None);
    }
}
