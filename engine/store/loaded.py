"""Mapped objects from rows read as plain columns (a Core SELECT), put in the session as the ORM's own loading
puts the rows it reads.

Reading entities through the ORM sets up its loaders again at every execution (`loading.instances`: one
row processor per entity, then an object per row): for the command path's first statement, the locked
instance, its chain's head and its task rows, that was ~60 % of the statement's time and ~5 % of a
completion's (bench/command_cost.py). Here the statement is a Core one (its columns converted by their types
as the ORM's would be) and each object is made the way `sqlalchemy.orm.loading` makes it: a new persistent
object in the identity map, or, when the session already holds that row, the one it holds, its values
replaced (`populate_existing`). Its values are the database's (`_commit_all`): a change made afterwards is
tracked and flushed as for any loaded object. SQLAlchemy is pinned (pyproject.toml), as for writes.py.

Only for classes mapped to one table, each attribute one column of it (no relationships, no inheritance).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import Column, inspect
from sqlalchemy.orm import ColumnProperty, Mapper, Session
from sqlalchemy.orm.attributes import instance_state

T = TypeVar("T")


@functools.cache
def _layout(cls: type) -> tuple[Mapper, tuple[str, ...], tuple[int, ...]]:
    """(mapper, attribute keys in the table's column order, positions of the primary key among them)."""
    mapper = inspect(cls)
    if mapper.relationships or mapper.inherits is not None or mapper.polymorphic_on is not None:
        raise TypeError(f"{cls.__name__}: only plain single-table mappings can be loaded from columns")
    keys = []
    for column in mapper.local_table.columns:
        prop = mapper.get_property_by_column(column)
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1 or prop.deferred:
            raise TypeError(f"{cls.__name__}.{prop.key}: not a plain column attribute")
        keys.append(prop.key)
    if len(keys) != len(mapper.column_attrs):
        raise TypeError(f"{cls.__name__}: attributes that are not columns of its table")
    pk = tuple(keys.index(mapper.get_property_by_column(c).key) for c in mapper.primary_key)
    return mapper, tuple(keys), pk


def columns(cls: type) -> list[Column]:
    """The table columns to select for `loaded(cls, ...)`, in the order it expects them."""
    return list(_layout(cls)[0].local_table.columns)


def width(cls: type) -> int:
    return len(_layout(cls)[1])


def loaded(session: Session, cls: type[T], values: Sequence) -> T | None:
    """The persistent object of these column values (`columns(cls)`'s order); None when its key is NULL
    (an outer join found no row)."""
    mapper, keys, pk_at = _layout(cls)
    pk = tuple(values[i] for i in pk_at)
    if None in pk:
        return None
    key = (mapper._identity_class, pk, None)  # the key loading.py gives it
    identity_map = session.identity_map
    obj = identity_map.get(key)
    if obj is None:
        obj = mapper.class_manager.new_instance()
        state = instance_state(obj)
        state.key, state.identity_token, state.session_id = key, None, session.hash_key
        identity_map._add_unpresent(state, key)
    else:
        state = instance_state(obj)
    state.dict.update(zip(keys, values, strict=True))
    state._commit_all(state.dict, identity_map)  # the database's values: nothing to flush
    return obj
