"""Storage: sqlmodel tables, sessions, migrations, and the operations on them.

Submodules are imported where they are used, so that a command pays only for
what it touches (``tracker --help`` never imports SQLAlchemy).
"""
