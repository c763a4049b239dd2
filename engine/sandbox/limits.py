"""The figures that bound one run of diagram code (an expression, a condition, a script, a DMN cell).

README "Security" states them; tests/security/test_sandbox__limits.py holds the sandbox to them.
"""

from __future__ import annotations

CPU_SECONDS = 1.0  # CPU time one run may use; checked every CHECK_EVERY lines
CHECK_EVERY = 10
CPU_BACKSTOP_SECONDS = 1  # the OS ends the sandbox process (SIGXCPU) after this much more, whatever it runs
WALL_SECONDS = 5.0  # a sandbox process that has not answered by then is killed
MEMORY_MB = 256  # address space a sandbox process may use beyond what it needs to start
MAX_LINES = 1_000_000  # lines one run may execute: a deterministic bound, so replay stops where the run did

MAX_TEXT = 1_000_000  # characters of a text an operator makes (+, *)
MAX_ITEMS = 100_000  # items of a list or tuple an operator makes, and of a range()
MAX_INT_BITS = 16_384  # bits of an integer an operator makes (about 4,900 decimal digits)
MAX_ROUND_DIGITS = 100  # round(x, n) with |n| beyond this is refused (round(5, -10**9) builds 10**10**9)

MAX_SOURCE = 20_000  # characters of one expression or script
MAX_NESTING = 100  # depth of its syntax tree (brackets, or operators chained in one expression)

MAX_OUTPUT = 2_000_000  # characters of JSON one script may leave in the data
MAX_JSON_DEPTH = 64  # nesting of a value a script leaves in the data

# The fast path: code that cannot loop runs in the server process while its values stay this small;
# past these it runs again in a sandbox process (same result, with the limits above).
INLINE_TEXT = 10_000
INLINE_ITEMS = 1_000
INLINE_INT_BITS = 1_024
