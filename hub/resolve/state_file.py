"""The resolved state between runs: encrypted files per entity type, tied to the run that left them.

An increment needs the features, entity labels and blocking index of every resolved record; reading
and featurizing them from the store again is most of a full run. The state is kept beside the store
instead (HUB_HOME/state/), in two files: `<type>.base`, the large part, written by a full run (or
when an increment compacts), and `<type>.state`, small, written by every run: which base it extends,
the base rows retired since, the delta and the model. An increment so rewrites only what it changed.

The files hold names, ID numbers and phones in clear inside, so they are AES-GCM encrypted with the
hub key, in chunks (one AES-GCM message holds at most 2 GiB), each chunk bound to its position and
count: a file not written by this hub, or cut, or reordered, is refused, never unpickled.

It is a cache: a missing, stale (another run id) or unreadable file only means the next run reads
every record from the store, as before the state was kept. Deleting the folder is always safe.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

from hub.private_files import make_private_dir
from hub.protect import Vault
from hub.resolve.state import Part, ResolvedState

log = logging.getLogger(__name__)

FORMAT = b"hub-resolved-state/4\n"
"""Raised whenever the pickled classes change shape or module: an older file is then rebuilt, not misread."""
CHUNK = 256 * 1024 * 1024
_HEADER = struct.Struct(">QQQ")
"""Chunk number, chunk count, sealed size: the first two are bound into the chunk as associated data."""


def state_path(directory: Path, entity_type: str, kind: str = "state") -> Path:
    return directory / f"{entity_type}.{kind}"


def _write(path: Path, vault: Vault, value: Any) -> None:
    plain = memoryview(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    total = max(1, -(-len(plain) // CHUNK))
    partial = path.with_suffix(".partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:   # like the key
        out.write(FORMAT)
        for k in range(total):
            sealed = vault.encrypt(bytes(plain[k * CHUNK:(k + 1) * CHUNK]), associated=f"{path.name}:{k}/{total}")
            out.write(_HEADER.pack(k, total, len(sealed)))
            out.write(sealed)
    os.replace(partial, path)


def _read(path: Path, vault: Vault) -> Any:
    parts: list[bytes] = []
    total = 0
    with path.open("rb") as source:
        if source.readline() != FORMAT:
            raise ValueError("not a resolved-state file of this format")
        while header := source.read(_HEADER.size):
            _, total, size = _HEADER.unpack(header)
            parts.append(vault.decrypt(source.read(size), associated=f"{path.name}:{len(parts)}/{total}"))
    if not parts or len(parts) != total:
        raise ValueError("file is cut short")
    return pickle.loads(b"".join(parts))   # authenticated above: written with this hub's key


def save_state(directory: Path, vault: Vault, run_id: str, state: ResolvedState) -> ResolvedState:
    """Write the state a run left (each file atomically); the base file only when the base is new."""
    make_private_dir(directory)
    if not state.base_id:
        base = replace(state.base, retired=state.base.retired & False)
        _write(state_path(directory, state.entity_type, "base"), vault, (run_id, state.entity_type, base))
        state = replace(state, base_id=run_id)
    small = (run_id, state.base_id, state.entity_type, state.model, state.base.retired, state.delta)
    _write(state_path(directory, state.entity_type), vault, small)
    return state


def load_state(directory: Path, vault: Vault, entity_type: str, run_id: str) -> ResolvedState | None:
    """The state left by run `run_id`, or None when there is none to trust (the caller reads the store)."""
    path = state_path(directory, entity_type)
    if not path.exists():
        return None
    try:
        stored_run, base_id, stored_type, model, retired, delta = _read(path, vault)
        if stored_run != run_id or stored_type != entity_type:
            return None
        base_run, base_type, base = _read(state_path(directory, entity_type, "base"), vault)
        if base_run != base_id or base_type != entity_type or not isinstance(base, Part) \
                or len(retired) != len(base):
            raise ValueError("base file does not belong to this state")
    except Exception as exc:   # any defect of a cache file means: read the store instead
        log.warning("resolved state %s not used (%s): reading the store instead", path, type(exc).__name__)
        return None
    return ResolvedState(entity_type, model, replace(base, retired=retired), delta, base_id)
