"""Compiling diagram code: RestrictedPython's rules, ours on top, and which way it runs.

RestrictedPython refuses names and attributes that start with `_` and routes item and attribute
access through guards. We also refuse what would let code outlive its limits or escape them:
`try` (a script could catch its own limit and loop on), `with`, classes, imports, slice assignment
(`l[:0] = l` doubles a list in one step) and computed f-string formats; and the operators that can
build huge values in one C call (`+ - * ** << %`, f-string fields) become calls to guards.py.

Code that cannot loop (no loops, comprehensions, functions, and calls only to `INLINE_FUNCTIONS` or
`guards.INLINE_METHODS`) is marked `inline`: it runs in the server process on the fast path.
Everything else runs in a sandbox process (host.py), with the OS limiting its memory and CPU.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from types import CodeType

from RestrictedPython import RestrictingNodeTransformer, compile_restricted
from RestrictedPython.transformer import copy_locations

from engine.sandbox import limits
from engine.sandbox.guards import INLINE_METHODS

FILENAME = "<diagram>"
_TEXT_OF = {"str": "_str_", "repr": "_repr_"}
_OPERATORS = {ast.Add: "_add_", ast.Sub: "_sub_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
              ast.Mod: "_mod_"}
INLINE_FUNCTIONS = frozenset({"len", "abs", "min", "max", "int", "float", "bool", "round", "sorted", "any", "all",
                              "sum", "isinstance", "str", "now", "today", "local_datetime", "days_between",
                              "first_of_next_month", "working_days_after"})
_INLINE_NODES = (ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.Pass, ast.Constant, ast.Name,
                 ast.Load, ast.Store, ast.Compare, ast.cmpop, ast.BoolOp, ast.boolop, ast.UnaryOp, ast.unaryop,
                 ast.BinOp, ast.operator, ast.IfExp, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Dict,
                 ast.Call, ast.keyword, ast.Attribute, ast.JoinedStr, ast.FormattedValue)
_DISPLAYS = (ast.Tuple, ast.List, ast.Dict)
_TRY = "try/except is not allowed in a diagram (a script may not catch its own limits)"
_IMPORT = "imports are not allowed in a diagram"
# nodes refused wherever they stand, with what the modeller reads
_REFUSED: dict[type[ast.AST], str] = {
    ast.Try: _TRY, ast.TryStar: _TRY, ast.With: "'with' is not allowed in a diagram",
    ast.ClassDef: "class definitions are not allowed in a diagram", ast.Import: _IMPORT, ast.ImportFrom: _IMPORT,
    ast.MatMult: "the @ operator is not allowed in a diagram"}


class CodeRefused(PermissionError):
    """The code breaks a rule of the sandbox; the message says which and where."""


@dataclass(frozen=True)
class Compiled:
    source: str
    mode: str  # "eval" | "exec"
    code: CodeType
    inline: bool  # cannot loop: may run in the server process (while its values stay small)
    names: frozenset[str]  # every name the code reads or writes


class DiagramPolicy(RestrictingNodeTransformer):
    def _refuse(self, node: ast.AST, message: str) -> ast.AST:
        self.error(node, message)
        return node

    def visit(self, node: ast.AST) -> ast.AST:
        """Every node passes here first: the refused kinds stop at once, before RestrictedPython's own visit."""
        refused = _REFUSED.get(type(node))
        return self._refuse(node, refused) if refused is not None else super().visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            return self._refuse(node, "assigning to a slice is not allowed in a diagram")
        return super().visit_Subscript(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _OPERATORS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        """f"...": one guard call that formats each field (`_fmt_`) and checks the joined length
        (`_fstr_`), so `a = f"{a}{a}"` cannot double a text past the limit line after line."""
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value)
                continue
            spec = value.format_spec
            if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
                return self._refuse(node, "an f-string format may not be computed in a diagram")
            text = "".join(v.value for v in spec.values) if spec is not None else ""
            field = ast.Call(func=ast.Name("_fmt_", ast.Load()),
                             args=[self.visit(value.value), ast.Constant(value.conversion), ast.Constant(text)],
                             keywords=[])
            parts.append(_located(field, value))
        return _located(ast.Call(func=ast.Name("_fstr_", ast.Load()), args=parts, keywords=[]), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """str(x) and repr(x) of something that is not data would show a memory address (a function,
        an iterator): they call guards that accept data only. `str` itself stays the type."""
        node = super().visit_Call(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TEXT_OF:
            node.func = _located(ast.Name(_TEXT_OF[node.func.id], ast.Load()), node.func)
        return node


def _located(new: ast.AST, old: ast.AST) -> ast.AST:
    copy_locations(new, old)
    return new


def compile_code(source: str, mode: str = "eval") -> Compiled:
    """Compile under the sandbox's rules; `CodeRefused` names what is not allowed, and where."""
    if not isinstance(source, str):
        raise CodeRefused("an expression must be text")
    return _compile(source, mode)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> Compiled:
    if len(source) > limits.MAX_SOURCE:
        raise CodeRefused(f"the code is {len(source):,} characters long; at most {limits.MAX_SOURCE:,} are allowed")
    tree = _parse(source, mode)
    inline, names = _inline(tree), _names(tree)
    try:
        result = compile_restricted(tree, FILENAME, mode, policy=DiagramPolicy)
    except SyntaxError as exc:  # RestrictedPython's refusals: a tuple of messages without a line
        raise CodeRefused("; ".join(exc.msg) if isinstance(exc.msg, tuple) else str(exc.msg or exc)) from None
    except (RecursionError, MemoryError):
        raise CodeRefused("the code is nested too deeply") from None
    return Compiled(source, mode, result, inline, names)


def _parse(source: str, mode: str) -> ast.AST:
    try:
        tree = ast.parse(source, FILENAME, mode)
    except SyntaxError as exc:
        raise CodeRefused(f"line {exc.lineno}: {exc.msg}" if exc.lineno else str(exc.msg)) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        detail = "nested too deeply" if not isinstance(exc, ValueError) else str(exc)
        raise CodeRefused(f"the code cannot be read: {detail}") from None
    _check_depth(tree)
    return tree


def _check_depth(tree: ast.AST) -> None:
    """Walk without recursion: RestrictedPython's transformer and the compiler recurse per level."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.MAX_NESTING:
            line = getattr(node, "lineno", None)
            where = f"line {line}: " if line else ""
            raise CodeRefused(f"{where}the code is nested more than {limits.MAX_NESTING} levels deep "
                              "(too many brackets or operators in one expression)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _inline(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, _INLINE_NODES):
            return False
        if isinstance(node, ast.Call) and not _inline_call(node):
            return False
        if isinstance(node, ast.Attribute) and node.attr not in INLINE_METHODS:
            return False
        if isinstance(node, _DISPLAYS) and isinstance(getattr(node, "ctx", ast.Load()), ast.Load) \
                and not _constant(node):
            return False  # [a, a] of a container shares it: ten lines make a thousand leaves
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(_plain_target(t) for t in targets):
                return False
    return True


def _constant(node: ast.AST) -> bool:
    """A display of constants only (nested displays too), or a tuple target being assigned."""
    return all(isinstance(n, (ast.Constant, *_DISPLAYS, ast.Load, ast.UnaryOp, ast.unaryop))
               for n in ast.walk(node))


def _inline_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in INLINE_FUNCTIONS
    return isinstance(func, ast.Attribute) and func.attr in INLINE_METHODS


def _plain_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts)


def _names(tree: ast.AST) -> frozenset[str]:
    found = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    found |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    return frozenset(found)
