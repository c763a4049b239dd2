"""salesflow engine: durable BPMN execution on SpiffWorkflow.

This package never imports Flask or the web layer: the CLI, the worker, the
tests and the web application all drive it through `engine.Engine`.
"""

from engine.api import Engine

__all__ = ["Engine"]
