//! chainmark server library.
