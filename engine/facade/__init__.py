"""Groups of Engine methods kept out of engine/api.py, each a mixin class Engine inherits."""
