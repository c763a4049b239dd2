"""Parts of `Engine` (engine/api.py) kept in modules of their own, one mixin per subject."""
