//! Carries out a `Plan` exactly: retries, back-off, idempotency. Makes no decisions.
