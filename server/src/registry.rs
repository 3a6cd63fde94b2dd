//! The code registry's use cases: products, importing a batch folder from codegen, and voiding,
//! recalling or releasing a batch or a serial range of it. Input checks live here; SQL lives in
//! `store::{products, batches, import}`.

use std::path::{Path, PathBuf};

use codegen::gs1::Gtin14;
use codegen::import::{VerifiedImport, peek_key_id};
use codegen::serial::Serial;

use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::store::DbConnection;
use crate::store::batches::{self, BatchRow, Changed, IndexRange, StatusChange};
use crate::store::import::{self, Imported};
use crate::store::in_transaction;
use crate::store::products::{self, NewProduct, Product};
use crate::store::users::now;

/// A product as asked for, before checks.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub gtin: Option<String>,
    pub case_size: Option<u32>,
    pub image_url: Option<String>,
}

/// SKUs follow codegen's `--product` rule, so any SKU here can be printed into a batch.
pub fn check_sku(sku: &str) -> Result<()> {
    let n = sku.chars().count();
    if n == 0 || n > 200 || sku.chars().any(char::is_control) || sku.trim() != sku {
        return Err(Error::BadRequest(format!(
            "SKU {sku:?} is invalid: give 1 to 200 printable characters, without leading or \
             trailing spaces"
        )));
    }
    Ok(())
}

fn clean_optional(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn check_new_product(input: ProductInput) -> Result<NewProduct> {
    check_sku(&input.sku)?;
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::BadRequest("name must be 1 to 200 characters".into()));
    }
    let name_en = clean_optional(input.name_en);
    if name_en.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(Error::BadRequest(
            "name_en must be at most 200 characters".into(),
        ));
    }
    let gtin = match clean_optional(input.gtin) {
        Some(g) => Some(
            Gtin14::parse(&g)
                .map_err(|e| Error::BadRequest(format!("GTIN {g:?}: {e}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let case_size = input.case_size.unwrap_or(codegen::batch::DEFAULT_CASE_SIZE);
    if !(1..=100_000).contains(&case_size) {
        return Err(Error::BadRequest(format!(
            "case_size {case_size} is out of range: give 1 to 100000 items per case"
        )));
    }
    let image_url = clean_optional(input.image_url);
    if let Some(url) = &image_url {
        let ok_scheme =
            url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/');
        if !ok_scheme || url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c == '"') {
            return Err(Error::BadRequest(format!(
                "image_url {url:?} must be an http(s) URL or a path starting with '/'"
            )));
        }
    }
    Ok(NewProduct {
        sku: input.sku,
        name,
        name_en,
        gtin,
        case_size: case_size as i32,
        image_url,
        created_at: now(),
    })
}

pub fn create_product(conn: &mut DbConnection, input: ProductInput) -> Result<Product> {
    let new = check_new_product(input)?;
    Ok(products::create(conn, &new)?)
}

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Create the batch's product (named by its SKU) when it is not in the registry.
    pub create_product: bool,
    /// The user importing, for the audit log; `None` from the command line.
    pub actor: Option<i64>,
}

/// Imports the codegen batch folder `dir`: picks the master key by the folder's key id, verifies
/// the whole import file (codegen refuses tampered or truncated files), then writes everything in
/// one transaction. `key_files` only serve to say which keys are configured when none fits.
pub fn import_batch(
    conn: &mut DbConnection,
    keys: &KeyRing,
    key_files: &[PathBuf],
    dir: &Path,
    options: ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Imported> {
    let key_id = peek_key_id(dir).map_err(|e| Error::Import(e.to_string()))?;
    let key = keys
        .get(&key_id)
        .ok_or_else(|| unknown_key(&key_id, keys, key_files))?;
    let started = std::time::Instant::now();
    let verified = VerifiedImport::open(dir, key).map_err(|e| Error::Import(e.to_string()))?;
    tracing::info!(dir = %dir.display(), secs = started.elapsed().as_secs_f64(), "import file verified");
    let header = verified.header();
    let case_size = i32::try_from(header.case_size)
        .map_err(|_| Error::Import(format!("case size {} is too large", header.case_size)))?;
    let sku = header.product.clone();
    let gtin = header.gtin.map(|g| g.as_str().to_string());
    in_transaction(conn, |conn| {
        let product = match products::find_by_sku(conn, &sku)? {
            Some(p) => p,
            None if options.create_product => {
                check_sku(&sku).map_err(|e| Error::Import(e.to_string()))?;
                let mut new = NewProduct::named(&sku, &sku, case_size);
                new.gtin = gtin.clone();
                products::create(conn, &new)?
            }
            None => {
                return Err(Error::Import(format!(
                    "product SKU {sku:?} is not in the registry: create it first (POST \
                     /api/v1/products) or import with --create-product"
                )));
            }
        };
        if let (Some(ours), Some(theirs)) = (&product.gtin, &gtin) {
            if ours != theirs {
                return Err(Error::Import(format!(
                    "the batch was printed with GTIN {theirs}, but product {sku:?} has GTIN {ours}"
                )));
            }
        }
        Ok(import::insert_batch(
            conn,
            &verified,
            product.id,
            options.actor,
            progress,
        )?)
    })
}

fn unknown_key(key_id: &str, keys: &KeyRing, key_files: &[PathBuf]) -> Error {
    let configured = if key_files.is_empty() {
        let mut ids: Vec<&str> = keys.ids().collect();
        ids.sort_unstable();
        if ids.is_empty() {
            "no key files are configured (set key_files or CHAINMARK_KEY_FILES)".to_string()
        } else {
            format!("the configured keys have ids {}", ids.join(", "))
        }
    } else {
        let files: Vec<String> = key_files.iter().map(|p| p.display().to_string()).collect();
        format!("the configured key files are {}", files.join(", "))
    };
    Error::Import(format!(
        "the batch was issued under key id {key_id}, which no configured master key has; \
         {configured}. Add the key file it was generated with to key_files (CHAINMARK_KEY_FILES)"
    ))
}

/// Parses a serial given by a person: any case, check character verified.
pub fn parse_serial(s: &str) -> Result<Serial> {
    Serial::parse(s.trim()).map_err(|e| Error::BadRequest(format!("serial {s:?}: {e}")))
}

/// The items of `batch` a request names: `from..=to`, or the whole batch when both are absent.
pub fn range_of(batch: &BatchRow, from: Option<&str>, to: Option<&str>) -> Result<IndexRange> {
    let (from, to) = match (from, to) {
        (None, None) => {
            return Ok(IndexRange {
                batch_id: batch.id.clone(),
                from: 0,
                to: batch.item_count - 1,
                whole: true,
            });
        }
        (Some(f), Some(t)) => (f, t),
        _ => {
            return Err(Error::BadRequest(
                "give both from_serial and to_serial, or neither for the whole batch".into(),
            ));
        }
    };
    let index = |s: &str| -> Result<i64> {
        let serial = parse_serial(s)?;
        let owner = serial.batch_id();
        if owner.as_str() != batch.id {
            return Err(Error::BadRequest(format!(
                "serial {serial} belongs to batch {owner}, not {}: a range stays inside one batch",
                batch.id
            )));
        }
        let i = i64::try_from(serial.index()).unwrap_or(i64::MAX);
        if i >= batch.item_count {
            return Err(Error::BadRequest(format!(
                "serial {serial} is not in batch {} (it has {} items)",
                batch.id, batch.item_count
            )));
        }
        Ok(i)
    };
    let (f, t) = (index(from)?, index(to)?);
    if f > t {
        return Err(Error::BadRequest(format!(
            "from_serial {} comes after to_serial {}",
            from.trim().to_uppercase(),
            to.trim().to_uppercase()
        )));
    }
    Ok(IndexRange {
        batch_id: batch.id.clone(),
        from: f,
        to: t,
        whole: false,
    })
}

pub fn find_batch(conn: &mut DbConnection, id: &str) -> Result<BatchRow> {
    batches::find(conn, &id.trim().to_uppercase())?.ok_or_else(|| Error::not_found("batch"))
}

fn check_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::BadRequest(
            "reason is required: say why, in 1 to 500 characters".into(),
        ));
    }
    Ok(reason.to_string())
}

/// Voids or recalls a batch, or a serial range of it.
pub fn change_status(
    conn: &mut DbConnection,
    batch_id: &str,
    change: StatusChange,
    reason: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: Option<i64>,
) -> Result<(IndexRange, Changed)> {
    let reason = check_reason(reason)?;
    let batch = find_batch(conn, batch_id)?;
    let range = range_of(&batch, from, to)?;
    let changed = batches::change_status(conn, &range, change, &reason, actor)?;
    Ok((range, changed))
}

/// Releases a serial range of a batch for sale.
pub fn release(
    conn: &mut DbConnection,
    batch_id: &str,
    from: &str,
    to: &str,
    actor: Option<i64>,
) -> Result<(IndexRange, Changed)> {
    let batch = find_batch(conn, batch_id)?;
    let range = range_of(&batch, Some(from), Some(to))?;
    let changed = batches::release(conn, &range, actor)?;
    Ok((range, changed))
}
