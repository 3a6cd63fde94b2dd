//! The scanner agent library (see README.md): the wire protocol and the durable journal.
