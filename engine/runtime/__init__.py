"""Runtime commands: one transaction each, the instance row locked, the trail appended."""
