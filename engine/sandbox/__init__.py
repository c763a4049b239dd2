"""The sandbox every piece of diagram code runs in: conditions, scripts, timer expressions, DMN cells.

policy.py compiles (RestrictedPython plus our rules) and decides whether code may take the fast path
in the server process; guards.py bounds what one operator can build; namespace.py is all the code
can name; runner.py runs it and collects what a script changed; values.py decides what may be stored;
child.py and host.py are the sandbox process with its OS limits; dispatch.py chooses between them.
The figures are in limits.py. This package imports nothing else of the engine's but engine.config.
"""
