"""The salesflow application: the `salesflow` command that wires engine and web layer together."""
