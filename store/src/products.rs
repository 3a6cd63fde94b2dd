//! Products (SKUs): what a batch of codes is printed for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::products;
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
