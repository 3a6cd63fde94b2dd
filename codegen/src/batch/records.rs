//! The records of a batch as they appear in `import.jsonl` and `batch.json`, shared by the
//! writer ([`super::write_batch`]) and the reader ([`crate::import`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::gs1::{CompanyPrefix, Gtin14};
use crate::keys::{CodeHash, Tag};
use crate::payload::CaseId;
use crate::serial::{BatchId, Serial};

/// Version number written in the batch line of `import.jsonl`.
pub const IMPORT_VERSION: u32 = 1;

/// The batch line of `import.jsonl` (without `type` and `version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchHeader {
    /// Batch id (the first 8 characters of every serial).
    pub id: BatchId,
    /// Key id of the master key the batch was issued under.
    pub key_id: String,
    /// Product reference.
    pub product: String,
    /// GTIN-14 of the product, if given.
    pub gtin: Option<Gtin14>,
    /// GS1 company prefix, if cases carry SSCCs.
    pub company_prefix: Option<CompanyPrefix>,
    /// Base of every URL, without trailing slash.
    pub base_url: String,
    /// Number of items.
    pub items: u64,
    /// Number of cases.
    pub cases: u64,
    /// Items per case (the last case may be short).
    pub case_size: u32,
    /// Production date, if given.
    pub production_date: Option<NaiveDate>,
    /// When the batch was generated, RFC 3339 UTC.
    pub created_at: String,
}

/// The first line of `import.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HeaderLine {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    #[serde(flatten)]
    pub header: BatchHeader,
}

/// `batch.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Batch id.
    pub id: BatchId,
    /// Key id.
    pub key_id: String,
    /// Product reference.
    pub product: String,
    /// GTIN-14, if given.
    pub gtin: Option<Gtin14>,
    /// GS1 company prefix, if given.
    pub company_prefix: Option<CompanyPrefix>,
    /// Number of items.
    pub items: u64,
    /// Number of cases.
    pub cases: u64,
    /// Items per case.
    pub case_size: u32,
    /// Production date, if given.
    pub production_date: Option<NaiveDate>,
    /// Generation time, RFC 3339 UTC.
    pub created_at: String,
    /// SHA-256 of the whole `import.jsonl`, lower-case hex.
    pub import_sha256: String,
}

impl Manifest {
    /// The manifest of `header` with the import file's hash.
    pub fn new(header: &BatchHeader, import_sha256: String) -> Self {
        Manifest {
            id: header.id,
            key_id: header.key_id.clone(),
            product: header.product.clone(),
            gtin: header.gtin,
            company_prefix: header.company_prefix.clone(),
            items: header.items,
            cases: header.cases,
            case_size: header.case_size,
            production_date: header.production_date,
            created_at: header.created_at.clone(),
            import_sha256,
        }
    }
}

/// A case of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRecord {
    /// 0-based case index.
    pub index: u64,
    /// Its SSCC, or its internal case code without a company prefix (the `code` in the file).
    pub id: CaseId,
}

/// An item of the batch. The security code is never part of it: only its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRecord {
    /// 0-based item index.
    pub index: u64,
    /// The serial.
    pub serial: Serial,
    /// The tag carried by the anti-counterfeit URL.
    pub tag: Tag,
    /// HMAC of the security code (see [`crate::keys::BatchKey::code_hash`]).
    pub code_hash: CodeHash,
    /// Index of the case the item is packed in.
    pub case_index: u64,
    /// The case the item is packed in.
    pub case: CaseId,
}

/// One record of `import.jsonl` after the batch line, in file order: each case, then its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A case line.
    Case(CaseRecord),
    /// An item line.
    Item(ItemRecord),
}
