//! The levels API: roles, ownership, and the routes in the OpenAPI document.
