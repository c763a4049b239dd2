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
def _layout(cls: type, without: tuple[str, ...] = ()) -> tuple[Mapper, tuple[str, ...], tuple[int, ...], frozenset]:
    """(mapper, attribute keys in the table's column order less `without`, positions of the primary key among
    them, the attributes left out)."""
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
    pk_keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
    if set(without) - set(keys) or set(without) & set(pk_keys):
        raise ValueError(f"{cls.__name__}: only columns other than the key can be left out, not {without}")
    kept = [k for k in keys if k not in without]
    return mapper, tuple(kept), tuple(kept.index(k) for k in pk_keys), frozenset(without)


def columns(cls: type, without: tuple[str, ...] = ()) -> list[Column]:
    """The table columns to select for `loaded(cls, ..., without)`, in the order it expects them."""
    mapper, keys = _layout(cls, without)[:2]
    return [mapper.columns[k] for k in keys]


def width(cls: type, without: tuple[str, ...] = ()) -> int:
    return len(_layout(cls, without)[1])


def loaded(session: Session, cls: type[T], values: Sequence, without: tuple[str, ...] = ()) -> T | None:
    """The persistent object of these column values (`columns(cls, without)`'s order); None when its key is
    NULL (an outer join found no row). The attributes `without` were not read: they are read from the
    database when first used (as an expired attribute is), unless the session's object has them already."""
    mapper, keys, pk_at, left_out = _layout(cls, without)
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
    if left_out:
        state.expired_attributes.update(left_out - state.dict.keys())  # read on first use, as loading's defer
    return obj
