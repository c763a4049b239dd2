"""The KPI dashboard: response and resolution times against their targets, complaint resolution
rate, satisfaction and volumes (docs/kpi.md). `report.build` is the entry point (Engine.kpi)."""
