//! Products (SKUs): what a batch of codes is printed for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{product_pictures, products};
use super::users::now;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub gtin: Option<String>,
    pub case_size: i32,
    pub image_url: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A product to create; the caller has validated the fields (`registry::check_new_product`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = products)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub gtin: Option<String>,
    pub case_size: i32,
    pub image_url: Option<String>,
    pub created_at: NaiveDateTime,
}

impl NewProduct {
    /// A product with only a SKU and a name, the other fields empty; `created_at` is now.
    pub fn named(sku: &str, name: &str, case_size: i32) -> NewProduct {
        NewProduct {
            sku: sku.to_string(),
            name: name.to_string(),
            name_en: None,
            gtin: None,
            case_size,
            image_url: None,
            created_at: now(),
        }
    }
}

pub fn create(conn: &mut DbConnection, new: &NewProduct) -> Result<Product> {
    // The two unique columns get their own messages; checking first is clearer than parsing
    // backend-specific constraint names, and the unique index still guards against a race.
    if find_by_sku(conn, &new.sku)?.is_some() {
        return Err(Error::conflict(
            "sku_exists",
            format!("product SKU {:?} already exists", new.sku),
        ));
    }
    if let Some(gtin) = &new.gtin {
        let taken: Option<String> = products::table
            .filter(products::gtin.eq(gtin))
            .select(products::sku)
            .first(conn)
            .optional()?;
        if let Some(other) = taken {
            return Err(Error::conflict(
                "gtin_taken",
                format!("GTIN {gtin} already belongs to product {other:?}"),
            ));
        }
    }
    Ok(diesel::insert_into(products::table)
        .values(new)
        .returning(products::all_columns)
        .get_result::<Product>(conn)?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Product>> {
    Ok(products::table
        .order(products::sku)
        .select(Product::as_select())
        .load(conn)?)
}

pub fn find_by_sku(conn: &mut DbConnection, sku: &str) -> Result<Option<Product>> {
    Ok(products::table
        .filter(products::sku.eq(sku))
        .select(Product::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64> {
    Ok(products::table.count().get_result(conn)?)
}

/// The SKUs of the products, in the order of `ids` (an unknown id is left out).
pub fn skus(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<String>> {
    let found: Vec<(i64, String)> = products::table
        .filter(products::id.eq_any(ids))
        .select((products::id, products::sku))
        .load(conn)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|(i, _)| i == id).map(|(_, s)| s.clone()))
        .collect())
}

/// The products with these ids (unknown ids are left out).
pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Product>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        out.extend(
            products::table
                .filter(products::id.eq_any(chunk))
                .select(Product::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The SKU of a product. `get_result`, not `first`: a bound `LIMIT` makes the bundled SQLite
/// prepare the statement again on every call, and ship scans call this once each (BENCHMARKS.md).
pub fn sku_of(conn: &mut DbConnection, id: i64) -> Result<String> {
    Ok(products::table
        .find(id)
        .select(products::sku)
        .get_result(conn)?)
}

/// A product picture as stored: already normalised by the server (`pictures::prepare`).
#[derive(Debug, Clone)]
pub struct NewPicture {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub etag: String,
    pub width: i32,
    pub height: i32,
}

/// Stores (or replaces) product `id`'s picture and points its `image_url` at it. `false` when
/// there is no such product.
pub fn set_picture(
    conn: &mut DbConnection,
    id: i64,
    picture: &NewPicture,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<bool> {
    let url = format!("/products/{id}/picture?v={}", picture.etag);
    let found = diesel::update(products::table.find(id))
        .set(products::image_url.eq(Some(url)))
        .execute(conn)?;
    if found == 0 {
        return Ok(false);
    }
    // One statement, so two instances replacing the same picture at once cannot both find no
    // row and both insert (the second would fail on the key). On the concrete connection:
    // diesel's ON CONFLICT is written per backend.
    let fields = (
        product_pictures::content_type.eq(&picture.content_type),
        product_pictures::bytes.eq(&picture.bytes),
        product_pictures::etag.eq(&picture.etag),
        product_pictures::width.eq(picture.width),
        product_pictures::height.eq(picture.height),
        product_pictures::uploaded_by.eq(by),
        product_pictures::uploaded_at.eq(at),
    );
    let upsert = diesel::insert_into(product_pictures::table)
        .values((product_pictures::product_id.eq(id), fields))
        .on_conflict(product_pictures::product_id)
        .do_update()
        .set(fields);
    per_backend!(conn, |c| upsert.execute(c))?;
    Ok(true)
}

/// Product `id`'s picture: content type, bytes and ETag.
pub fn picture(conn: &mut DbConnection, id: i64) -> Result<Option<(String, Vec<u8>, String)>> {
    Ok(product_pictures::table
        .find(id)
        .select((
            product_pictures::content_type,
            product_pictures::bytes,
            product_pictures::etag,
        ))
        .load(conn)?
        .pop())
}

/// Products by SKU whose SKU, name, English name or GTIN contains `search`, one page
/// (`limit + 1` rows fetched: see `desk::Page`).
pub fn page(
    conn: &mut DbConnection,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<crate::desk::Page<Product>> {
    let mut q = products::table
        .order(products::sku)
        .offset(offset)
        .limit(limit + 1)
        .select(Product::as_select())
        .into_boxed();
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            products::sku
                .like(pattern.clone())
                .escape('\\')
                .or(products::name.like(pattern.clone()).escape('\\'))
                .or(products::name_en.like(pattern.clone()).escape('\\'))
                .or(products::gtin.like(pattern).escape('\\')),
        );
    }
    Ok(crate::desk::Page::of_rows(q.load(conn)?, limit))
}
