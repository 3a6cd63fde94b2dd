//! Columns whose type is a domain enum (an order's state, an agent's status, …).
//!
//! The columns stay `TEXT` in both databases — a value reads the same in `psql` and `sqlite3`,
//! and adding a state needs no `ALTER TYPE` — but in `schema.rs` each has a SQL type of its own
//! (`OrderStateText`, …) that only its domain enum converts to and from. So a state column is
//! compared with an `OrderState`, never with a string, and a row struct's field *is* the enum:
//! the compiler keeps a misspelt state out of every query, and an unknown value in a row is a
//! deserialization error at the one place rows are read instead of a string travelling on.
//!
//! The domain crate stays free of diesel: the conversions live here, on the store's own SQL
//! types, which the orphan rule allows (`impl ToSql<OrderStateText, Sqlite> for OrderState`
//! names a local type). Writing and comparing goes through `Stored(value)`, the store's wrapper:
//! diesel's blanket `AsExpression` impl leaves no room for one on a type of another crate.

/// Declares a SQL type for a domain enum's column and the conversions to and from it on SQLite,
/// PostgreSQL and the multi-backend connection. `$name` is how the enum writes itself (a
/// `&'static str`), `$parse` reads it back (an `Option`).
macro_rules! text_enum {
    (@to_sql $sql:ident, $ty:ty, $db:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Nullable<$sql>, $db>
            for $crate::typed::Stored<$ty>
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $db>,
            ) -> diesel::serialize::Result {
                diesel::serialize::ToSql::<$sql, $db>::to_sql(self, out)
            }
        }
    };
    ($(#[$doc:meta])* $sql:ident => $ty:ty, name: $name:expr, parse: $parse:expr $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
        #[diesel(sqlite_type(name = "Text"))]
        #[diesel(postgres_type(oid = 25, array_oid = 1009))]
        pub struct $sql;

        impl $crate::typed::TextEnum for $ty {
            fn text(&self) -> &'static str {
                let name: fn(&$ty) -> &'static str = $name;
                name(self)
            }

            fn from_text(s: &str) -> Option<Self> {
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(s)
            }
        }

        impl diesel::expression::AsExpression<$sql> for $crate::typed::Stored<$ty> {
            type Expression = diesel::internal::derives::as_expression::Bound<$sql, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a> diesel::expression::AsExpression<$sql> for &'a $crate::typed::Stored<$ty> {
            type Expression = diesel::internal::derives::as_expression::Bound<$sql, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl diesel::expression::AsExpression<diesel::sql_types::Nullable<$sql>>
            for $crate::typed::Stored<$ty>
        {
            type Expression = diesel::internal::derives::as_expression::Bound<
                diesel::sql_types::Nullable<$sql>,
                Self,
            >;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a> diesel::expression::AsExpression<diesel::sql_types::Nullable<$sql>>
            for &'a $crate::typed::Stored<$ty>
        {
            type Expression = diesel::internal::derives::as_expression::Bound<
                diesel::sql_types::Nullable<$sql>,
                Self,
            >;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        $crate::typed::text_enum!(@to_sql $sql, $ty, diesel::sqlite::Sqlite);
        $crate::typed::text_enum!(@to_sql $sql, $ty, diesel::pg::Pg);
        $crate::typed::text_enum!(@to_sql $sql, $ty, $crate::conn::MultiBackend);

        impl diesel::serialize::ToSql<$sql, diesel::sqlite::Sqlite> for $crate::typed::Stored<$ty> {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value($crate::typed::TextEnum::text(&self.0));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<$sql, diesel::pg::Pg> for $crate::typed::Stored<$ty> {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                out.write_all($crate::typed::TextEnum::text(&self.0).as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<$sql, $crate::conn::MultiBackend>
            for $crate::typed::Stored<$ty>
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::conn::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value(($sql, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<$sql, diesel::sqlite::Sqlite> for $ty {
            fn from_sql(
                value: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::sqlite::Sqlite,
                >>::from_sql(value)?;
                $crate::typed::read(&s)
            }
        }

        impl diesel::deserialize::FromSql<$sql, diesel::pg::Pg> for $ty {
            fn from_sql(
                value: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                $crate::typed::read(&s)
            }
        }

        impl diesel::deserialize::FromSql<$sql, $crate::conn::MultiBackend> for $ty {
            fn from_sql(
                value: <$crate::conn::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                value.from_sql::<Self, $sql>()
            }
        }

        impl diesel::sql_types::HasSqlType<$sql> for $crate::conn::MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                $crate::conn::MultiBackend::lookup_sql_type::<$sql>(lookup)
            }
        }

        impl diesel::deserialize::Queryable<$sql, diesel::sqlite::Sqlite> for $ty {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl diesel::deserialize::Queryable<$sql, diesel::pg::Pg> for $ty {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl diesel::deserialize::Queryable<$sql, $crate::conn::MultiBackend> for $ty {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }
    };
}

pub(crate) use text_enum;

/// A domain enum as a value written to its column or compared with it:
/// `restock_orders::state.eq(Stored(OrderState::Paid))`. (diesel cannot let the store make the
/// domain's own enums SQL expressions: `Stored` is the store's type, so it may.) Rows read the
/// enums themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<T>(pub T);

impl<T> From<T> for Stored<T> {
    fn from(value: T) -> Self {
        Stored(value)
    }
}

/// A domain enum stored by its name.
pub trait TextEnum: Sized {
    fn text(&self) -> &'static str;
    fn from_text(s: &str) -> Option<Self>;
}

/// A stored name read back, or an error naming it: a row with a value the code does not know
/// (written by a newer version, or by hand) fails where it is read.
pub fn read<T: TextEnum>(s: &str) -> diesel::deserialize::Result<T> {
    T::from_text(s).ok_or_else(|| {
        format!(
            "unknown stored value {s:?} for {}",
            std::any::type_name::<T>()
        )
        .into()
    })
}
