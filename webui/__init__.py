"""The web layer: turns HTTP into engine calls. No SQL and no workflow logic here."""
