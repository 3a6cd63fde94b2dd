//! The rules of DOMAIN.md as plain types and functions: no I/O, no diesel, no axum.

pub mod custody;
pub mod diversion;
pub mod epcis;
pub mod joining;
pub mod levels;
pub mod marketing;
pub mod network;
pub mod network_import;
pub mod phone;
pub mod printing;
pub mod retail;
pub mod role;
pub mod verification;

pub use role::{Permission, Role};

/// A rule's refusal: what it says to a person (`Display`) and a stable machine-readable code a
/// client can act on, the same in every language. The server sends both in its error body
/// (`{"error": {"code", "message"}}`), so an API client tells "the order is already paid" from
/// "the supplier has not answered yet" without parsing the message.
pub trait Refusal: std::fmt::Display {
    fn code(&self) -> &'static str;
}

/// Pins the stored names of an enum kept in a TEXT column: every variant is listed (with the
/// exact text the databases hold, which must never change), writes itself as that text and reads
/// back from it. One call per stored enum, in that enum's module.
#[cfg(test)]
pub(crate) fn pin_stored_names<T>(
    expected: &[(T, &str)],
    name: impl Fn(T) -> &'static str,
    parse: impl Fn(&str) -> Option<T>,
) where
    T: strum::IntoEnumIterator + Copy + PartialEq + std::fmt::Debug,
{
    let all: Vec<T> = T::iter().collect();
    assert_eq!(
        all.len(),
        expected.len(),
        "every variant of {} has its stored name pinned",
        std::any::type_name::<T>()
    );
    for variant in all {
        let Some((_, stored)) = expected.iter().find(|(v, _)| *v == variant) else {
            panic!("{variant:?} has no pinned stored name");
        };
        assert_eq!(
            name(variant),
            *stored,
            "{variant:?} is stored as {stored:?}"
        );
        assert_eq!(
            parse(stored),
            Some(variant),
            "{stored:?} reads back as {variant:?}"
        );
    }
    assert_eq!(parse("no such value"), None);
}
