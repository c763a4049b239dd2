"""Definitions: read, check and deploy bundles of BPMN, DMN and form files."""
