//! The handheld configuration (see README.md): schema, validation, profiles, provisioning.
