//! The durable journal: every scan is written and fsynced here before it is published, and is
//! dropped only when the server's ack arrives (never on the broker's PUBACK), so a broker restart,
//! a network loss or a power cut loses no scan and doubles none.
//!
//! An append-only file of checksummed records ([`record`]). [`Journal::open`] recovers after a
//! crash: a torn last record (or garbage after it) fails its checksum and is cut off; earlier
//! records are intact because they were fsynced before their append returned. Damage in the
//! middle (disk rot) is told apart by a valid record further on: only the damaged bytes are
//! skipped ([`Journal::skipped_bytes`]) and the file is compacted. Only the offsets of
//! unacked events are held in memory (about 40 bytes each), never their payloads.

mod file;
pub mod record;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use file::{find_next_record, open_rw, write_atomically};
use record::{HEAD_LEN, HEADER_LEN, Kind};

use crate::error::Error;
use crate::wire::{MAX_MESSAGE_BYTES, ScanEvent};

/// Acked bytes below this are never worth a rewrite.
const COMPACT_MIN_DEAD: u64 = 64 * 1024;

/// Where an unacked event lives in the file.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
}

/// The journal of one device. Not shared between processes.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// File length = where the next record goes.
    len: u64,
    max_bytes: u64,
    next_seq: u64,
    pending: BTreeMap<u64, Slot>,
    /// Bytes of pending event records; everything else after the header is reclaimable.
    live_bytes: u64,
    recovered_bytes: u64,
    skipped_bytes: u64,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, refusing to let it grow past `max_bytes`.
    /// A torn tail is truncated; see [`Journal::recovered_bytes`].
    pub fn open(path: impl AsRef<Path>, max_bytes: u64) -> Result<Journal, Error> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            // Created through a temp file and a rename, so a journal file always has a whole header.
            write_atomically(&path, &record::header(1), |_| Ok(()))?;
        }
        let file = open_rw(&path)?;
        let mut journal = Journal {
            path,
            file,
            len: 0,
            max_bytes,
            next_seq: 1,
            pending: BTreeMap::new(),
            live_bytes: 0,
            recovered_bytes: 0,
            skipped_bytes: 0,
        };
        journal.recover()?;
        Ok(journal)
    }

    /// Scans the file, rebuilding the pending index, and cuts off anything after the last whole
    /// record.
    fn recover(&mut self) -> Result<(), Error> {
        let file_len = self
            .file
            .metadata()
            .map_err(|e| Error::io(&self.path, e))?
            .len();
        let mut reader = BufReader::with_capacity(64 * 1024, &self.file);
        let mut header = [0u8; HEADER_LEN as usize];
        reader
            .read_exact(&mut header)
            .map_err(|_| Error::NotAJournal(self.path.clone()))?;
        self.next_seq =
            record::parse_header(&header).ok_or(Error::NotAJournal(self.path.clone()))?;
        let mut offset = HEADER_LEN;
        let mut buf = Vec::with_capacity(MAX_MESSAGE_BYTES + HEAD_LEN + record::CHECK_LEN);
        loop {
            let mut head = [0u8; HEAD_LEN];
            if reader.read_exact(&mut head).is_err() {
                break; // end of file, or a torn head
            }
            let whole = record::parse_head(&head).filter(|h| {
                buf.clear();
                buf.extend_from_slice(&head);
                buf.resize(h.record_len(), 0);
                reader.read_exact(&mut buf[HEAD_LEN..]).is_ok() && record::verify(&buf)
            });
            let Some(h) = whole else {
                // Torn tail, or damage in the middle? Only a whole, valid record further on tells
                // them apart. Damage in the middle costs only the damaged bytes: the fsynced
                // records after it are kept, and the file is compacted below.
                match find_next_record(&self.file, &self.path, offset + 1, file_len)? {
                    Some(next) => {
                        self.skipped_bytes += next - offset;
                        offset = next;
                        reader
                            .seek(SeekFrom::Start(next))
                            .map_err(|e| Error::io(&self.path, e))?;
                        continue;
                    }
                    None => break,
                }
            };
            let len = h.record_len() as u64;
            match h.kind {
                Kind::Event => {
                    let slot = Slot {
                        offset,
                        len: len as u32,
                    };
                    // Append burns a seq even when it fails, so a seq appears at most once; if it
                    // ever did twice, the later record wins and the accounting stays right.
                    if let Some(old) = self.pending.insert(h.seq, slot) {
                        self.live_bytes -= u64::from(old.len);
                    }
                    self.live_bytes += len;
                    self.next_seq = self.next_seq.max(h.seq.saturating_add(1));
                }
                Kind::Ack => {
                    // Should the event record itself have been damaged, its seq still counts.
                    self.next_seq = self.next_seq.max(h.seq.saturating_add(1));
                    if let Some(slot) = self.pending.remove(&h.seq) {
                        self.live_bytes -= u64::from(slot.len);
                    }
                }
            }
            offset += len;
        }
        drop(reader);
        self.len = offset;
        if offset < file_len {
            // A torn or garbage tail: it was never acknowledged to the caller (append returns only
            // after fsync), so cutting it loses nothing that was promised.
            self.recovered_bytes = file_len - offset;
            self.file
                .set_len(offset)
                .and_then(|()| self.file.sync_all())
                .map_err(|e| Error::io(&self.path, e))?;
        }
        if self.skipped_bytes > 0 {
            // Rewrite without the damaged bytes, so later opens need no resync.
            self.compact()?;
        }
        Ok(())
    }

    /// Appends the event `build(seq)` for the next sequence number and fsyncs it; returns the
    /// seq. Only after this returns may the event be published. Fails with
    /// [`Error::JournalFull`] when the cap is reached even after compaction: the caller must
    /// then stop accepting scans.
    pub fn append(&mut self, build: impl FnOnce(u64) -> ScanEvent) -> Result<u64, Error> {
        let start = self.len;
        let seq = self.write(build)?;
        if let Err(e) = self.file.sync_data() {
            // Taken back: the caller is told it failed, so it must not stay pending (the seq
            // stays burnt, since the record may still reach the disk).
            if let Some(slot) = self.pending.remove(&seq) {
                self.live_bytes -= u64::from(slot.len);
            }
            self.len = start;
            let _ = self.file.set_len(start);
            return Err(Error::io(&self.path, e));
        }
        Ok(seq)
    }

    /// Group commit, first half: writes the event like [`Journal::append`] but without the
    /// fsync, so a burst of scans shares one. The event counts as pending at once, but it must
    /// not be published (nor shown as taken) before [`Journal::sync`] returns.
    pub fn write(&mut self, build: impl FnOnce(u64) -> ScanEvent) -> Result<u64, Error> {
        let seq = self.next_seq;
        let event = build(seq);
        if event.seq != seq {
            return Err(Error::SeqMismatch {
                expected: seq,
                got: event.seq,
            });
        }
        let json = event.to_json();
        if json.len() > MAX_MESSAGE_BYTES {
            // The server would refuse it anyway; better to say so now than to block the queue.
            return Err(Error::Oversize {
                size: json.len(),
                max: MAX_MESSAGE_BYTES,
            });
        }
        let rec = record::encode(Kind::Event, seq, &json);
        self.make_room(rec.len() as u64)?;
        // The seq is burnt from here on, even if the write or fsync fails: after a failed fsync
        // the record may still reach the disk, and a second event must never share its seq.
        self.next_seq = seq + 1;
        self.write_tail(&rec)?;
        self.pending.insert(
            seq,
            Slot {
                offset: self.len,
                len: rec.len() as u32,
            },
        );
        self.live_bytes += rec.len() as u64;
        self.len += rec.len() as u64;
        Ok(seq)
    }

    /// Group commit, second half: makes every [`Journal::write`] so far durable. If this fails
    /// the state of those records on disk is unknown (they may or may not survive): the caller
    /// must stop and let the next open's recovery decide, rather than publish them.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    /// Marks `seq` done (a signed, final server ack: see `AckResult::is_final`). Returns whether it
    /// was pending; repeated acks are harmless. The ack record is not fsynced: if it is lost, the
    /// event is sent again and the server answers `duplicate`, which is acked the same way.
    pub fn ack(&mut self, seq: u64) -> Result<bool, Error> {
        let Some(slot) = self.pending.remove(&seq) else {
            return Ok(false);
        };
        self.live_bytes -= u64::from(slot.len);
        let rec = record::encode(Kind::Ack, seq, &[]);
        let dead = self.dead_bytes() + rec.len() as u64;
        if (dead > self.live_bytes && dead >= COMPACT_MIN_DEAD)
            || self.len + rec.len() as u64 > self.max_bytes
        {
            // Compaction drops the acked event itself, so no ack record is needed.
            self.compact()?;
        } else {
            self.write_tail(&rec)?;
            self.len += rec.len() as u64;
        }
        Ok(true)
    }

    /// Unacked events, oldest first, read from disk one at a time.
    pub fn pending(&self) -> impl Iterator<Item = Result<ScanEvent, Error>> + '_ {
        self.pending.values().map(|slot| self.read_event(*slot))
    }

    /// The unacked event `seq`, read from disk; `None` when it is not pending.
    pub fn read(&self, seq: u64) -> Result<Option<ScanEvent>, Error> {
        self.pending
            .get(&seq)
            .map(|slot| self.read_event(*slot))
            .transpose()
    }

    /// The sequence numbers of unacked events, oldest first.
    pub fn pending_seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.pending.keys().copied()
    }

    /// How many events wait for the server's ack.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Current file size in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.len
    }

    /// Bytes cut off a torn tail when the journal was opened.
    pub fn recovered_bytes(&self) -> u64 {
        self.recovered_bytes
    }

    /// Damaged bytes in the middle of the file skipped (and compacted away) when it was opened:
    /// the scans in them are lost, so the agent should report this.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped_bytes
    }

    /// Rewrites the file with only the unacked events (temp file, fsync, rename, fsync of the
    /// folder), so a crash at any point leaves either the old or the new file, both valid.
    pub fn compact(&mut self) -> Result<(), Error> {
        let mut new_pending = BTreeMap::new();
        let mut offset = HEADER_LEN;
        let slots: Vec<(u64, Slot)> = self.pending.iter().map(|(s, sl)| (*s, *sl)).collect();
        let file = write_atomically(&self.path, &record::header(self.next_seq), |out| {
            let mut buf = Vec::new();
            for (seq, slot) in &slots {
                self.read_record(*slot, &mut buf)?;
                out.write_all(&buf).map_err(|e| Error::io(&self.path, e))?;
                new_pending.insert(
                    *seq,
                    Slot {
                        offset,
                        len: slot.len,
                    },
                );
                offset += u64::from(slot.len);
            }
            Ok(())
        })?;
        // The handle written is the renamed file itself: there is no window in which a failed
        // reopen would leave us appending to the old, unlinked file.
        self.file = file;
        self.pending = new_pending;
        self.len = offset;
        Ok(())
    }

    fn dead_bytes(&self) -> u64 {
        self.len - HEADER_LEN - self.live_bytes
    }

    fn make_room(&mut self, need: u64) -> Result<(), Error> {
        if self.len + need <= self.max_bytes {
            return Ok(());
        }
        if self.dead_bytes() > 0 {
            self.compact()?;
        }
        if self.len + need > self.max_bytes {
            return Err(Error::JournalFull {
                max_bytes: self.max_bytes,
                pending: self.pending.len(),
            });
        }
        Ok(())
    }

    fn write_tail(&mut self, rec: &[u8]) -> Result<(), Error> {
        if let Err(e) = self.file.write_all_at(rec, self.len) {
            // Cut a partial write back off so the next record does not follow garbage; if that
            // fails too, the next open's recovery does it.
            let _ = self.file.set_len(self.len);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }

    fn read_record(&self, slot: Slot, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.resize(slot.len as usize, 0);
        self.file
            .read_exact_at(buf, slot.offset)
            .map_err(|e| Error::io(&self.path, e))?;
        if !record::verify(buf) {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                offset: slot.offset,
            });
        }
        Ok(())
    }

    fn read_event(&self, slot: Slot) -> Result<ScanEvent, Error> {
        let mut buf = Vec::new();
        self.read_record(slot, &mut buf)?;
        let body = &buf[HEAD_LEN..buf.len() - record::CHECK_LEN];
        serde_json::from_slice(body).map_err(|_| Error::Corrupt {
            path: self.path.clone(),
            offset: slot.offset,
        })
    }
}
