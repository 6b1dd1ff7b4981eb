//! Destinations: object storage, HTTP endpoints and PostgreSQL.
