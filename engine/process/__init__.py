"""Pure workflow operations on SpiffWorkflow objects: no database, no users.

Both the runtime commands and replay go through these functions, so that a
replayed step is executed by exactly the code that ran it the first time.
"""

from engine.process import limits as _limits  # noqa: F401 (applies SpiffWorkflow's depth limit)
from engine.process import spiff_logging as _spiff_logging  # noqa: F401 (SpiffWorkflow's unread logs made cheap)
