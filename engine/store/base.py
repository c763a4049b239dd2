"""The declarative base every table of engine/store derives from (models.py, kpi_tables.py)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
