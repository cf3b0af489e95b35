"""Files and folders that hold personal data or secrets: the hub's user alone may read them (0600, 0700).

The SQLite store and its -wal/-shm files, the key file, the connections file (tokens), the resolved
state and the demo's generated department systems all hold names, ID numbers or credentials; on a
shared server a file left 0644 is readable by every account on it. This module is the one place that
decides how such files are made and what happens to one found too open:

- made: folders 0700, files 0600 (`make_private_dir`, `write_private_text`); code that writes many files
  through other libraries (the demo's Excel, CSV and SQLite writers) runs inside `private_umask()`;
- found too open (written by an older version, copied in, unpacked from a backup): a file the hub owns,
  or HUB_HOME and a folder the hub made inside it, is tightened and a warning names it with its old mode.
  The hub owns these files, and no reader needs the looser mode. A folder outside HUB_HOME that the
  hub did not make (a shared drop folder, /tmp) is never changed.

Mapping files and drafts are configuration, reviewed and shared like code: they are not made private.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from hub.settings import HubSettings

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
"""New files get at most 0600 and new folders 0700, whatever mode the writing library asks for."""
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO

__all__ = [
    "keep_store_private",
    "make_private_dir",
    "private_umask",
    "secure_home",
    "sqlite_files",
    "tighten",
    "tighten_all",
    "tighten_tree",
    "write_private_text",
]


@contextmanager
def private_umask() -> Iterator[None]:
    """Within the block every file and folder this process creates is private; the umask is restored after.

    The umask belongs to the process: it is set only around code that creates files, not left behind,
    so a host process (a DAG worker, a test run) keeps its own for everything else.
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private_dir(path: Path) -> Path:
    """Create `path` and any missing parent as 0700 folders; folders that exist are left as they are."""
    missing: list[Path] = []
    here = Path(path)
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)   # mkdir's mode is narrowed by the umask, never widened: say it outright
    return Path(path)


def write_private_text(path: Path, text: str) -> None:
    """Replace `path` with `text` as a 0600 file: written beside it under a temporary name, then renamed,
    so the content never sits in a file others can read and a reader never sees half of it."""
    path = Path(path)
    make_private_dir(path.parent)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def _tightened(path: Path) -> int | None:
    """Remove group and other permissions from an existing file or folder; its old mode when it had some."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & _OPEN_TO_OTHERS:
            return None
        os.chmod(path, mode & ~_OPEN_TO_OTHERS)
    except FileNotFoundError:
        return None
    except PermissionError:
        log.warning("%s is readable by other users and cannot be made private (owned by another user?): "
                    "chmod go-rwx it", path)
        return None
    return mode


def tighten(path: Path) -> bool:
    """Make a file or folder the hub owns private if it is open to others, with a warning; True if it was."""
    old = _tightened(Path(path))
    if old is not None:
        log.warning("%s was open to other users (mode %04o): made private (%04o)", path, old, old & ~_OPEN_TO_OTHERS)
    return old is not None


def tighten_all(paths: Iterable[Path]) -> int:
    """`tighten` for each path, with one warning for all of them; how many were open."""
    opened = [path for path in paths if _tightened(Path(path)) is not None]
    if opened:
        log.warning("%d file(s) or folder(s) were open to other users and are now private, first %s",
                    len(opened), opened[0])
    return len(opened)


def tighten_tree(root: Path) -> int:
    """`tighten_all` for a folder the hub made and everything in it (links are not followed)."""
    root = Path(root)
    if not root.is_dir():
        return 0
    found = [root]
    for folder, dirs, files in os.walk(root):
        found.extend(Path(folder, name) for name in (*dirs, *files) if not Path(folder, name).is_symlink())
    return tighten_all(found)


def sqlite_files(url: str) -> list[Path]:
    """The files of a SQLite store URL (database, -wal, -shm); none for a server or an in-memory store."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return []
    database = Path(parsed.database)
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


def keep_store_private(files: list[Path]) -> None:
    """Called each time a SQLite store is connected: its files private, a warning if they held data.

    An empty database file is the one SQLite has just created with its default 0644: made private
    silently, before the first page is written. The -wal/-shm files SQLite makes afterwards take the
    database file's mode.
    """
    for path in files:
        try:
            if path.stat().st_size == 0:
                _tightened(path)
        except FileNotFoundError:
            continue
    tighten_all(files)


def secure_home(settings: HubSettings) -> None:
    """HUB_HOME, its demo folder, its state and quality folders (their files too), the key, the
    connections file and the grid roster (it names workers): tightened when found open to others.

    Run when a hub opens its store, after the store file and the key were made; the store's own files are
    kept private by the engine (hub.store.engine) each time it connects.
    """
    for path in (settings.home, settings.home / "demo", settings.key_file, settings.connections_file,
                 settings.grids_file):
        if path is not None:
            tighten(path)
    for tree in ("state", "quality"):
        tighten_tree(settings.home / tree)
