"""The audit trail: append-only events, one hash chain per instance."""
