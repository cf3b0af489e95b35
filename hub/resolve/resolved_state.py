"""The resolved state increments resolve against, and the encrypted files that keep it between runs.

What increments resolve against: the resolved records' features, entity labels and blocking index.

A full run leaves a `ResolvedState` of one part, its `base`. Each increment adds its records to a
small `delta` part (rebuilt from the previous delta plus the new records) and retires the old rows of
records that changed, so an increment costs O(changes), never a rebuild of the base's index. When the
delta outgrows COMPACT_SHARE of the base, the two are merged into a new base (a rebuild, O(n), paid
once in many increments). Rows are numbered across the parts: the base's first, then the delta's.

Term frequencies still count the retired rows' values: one changed record among thousands moves a
frequency by less than the model can tell apart.

Between runs it is kept in encrypted files per entity type, tied to the run that left them.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.private_files import make_private_dir
from hub.protect import Vault
from hub.resolve.blocking_index import Pairs, ResolutionIndex
from hub.resolve.compare import categorical_frame
from hub.resolve.engine import CLUSTER, Resolution
from hub.resolve.entity_types import get_spec
from hub.resolve.keys import KeyTable, Rows, RuleTables, key_tables
from hub.resolve.model import Model

log = logging.getLogger(__name__)

COMPACT_SHARE = 0.1
"""A delta beyond this share of the base is merged into it: probing two parts stays cheap, building a
delta index of many records does not."""


@dataclass(frozen=True)
class Part:
    features: pd.DataFrame
    """The engine's features (categorical columns), one row per record, `record_key` among them."""
    labels: npt.NDArray[np.object_]
    """The entity (id, or a run's cluster label) of each row."""
    index: ResolutionIndex
    retired: npt.NDArray[np.bool_]
    """Rows whose record has a newer version in a later part (never probed, never compared)."""

    @classmethod
    def build(cls, entity_type: str, features: pd.DataFrame, labels: npt.ArrayLike,
              tables: RuleTables | None = None) -> Part:
        spec = get_spec(entity_type)
        features = categorical_frame(features)
        labels = np.asarray(labels, dtype=object)
        tables = tables or key_tables(features, spec.rules)
        tf_columns = sorted({lvl.tf_column for c in spec.comparisons for lvl in c.levels if lvl.tf_column})
        index = ResolutionIndex.build(
            spec.rules, tables, features, tf_columns, labels, spec.guards.unique_column,
            features["source"].isin(spec.guards.duplicate_free_sources).to_numpy())
        for dtype in features.dtypes:   # pandas hashes a categorical's categories on first use, then caches
            hash(dtype)                 # it: an increment's concat would otherwise pay that, once per column
        return cls(features, labels, index, np.zeros(len(features), dtype=bool))

    def __len__(self) -> int:
        return len(self.features)

    def rows_of(self, record_keys: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        """Which rows hold one of `record_keys` (rows are sorted by record key: a binary search each)."""
        held = self.features["record_key"].to_numpy(dtype=object)
        mask = np.zeros(len(held), dtype=bool)
        if len(held) and len(record_keys):
            wanted = np.asarray(record_keys, dtype=object)
            at = np.minimum(np.searchsorted(held, wanted), len(held) - 1)
            mask[at[held[at] == wanted]] = True
        return mask


@dataclass(frozen=True)
class ResolvedState:
    entity_type: str
    model: Model
    base: Part
    delta: Part | None = None
    base_id: str = ""
    """The run whose base file holds `base` ("" until saved: save_state)."""

    @classmethod
    def from_resolution(cls, resolution: Resolution, labels: npt.ArrayLike | None = None) -> ResolvedState:
        """The state a full run leaves: its records, labelled by cluster (or by `labels`, entity ids)."""
        given = resolution.clusters[CLUSTER] if labels is None else labels
        part = Part.build(resolution.entity_type, resolution.prepared.features, given, resolution.tables)
        return cls(resolution.entity_type, resolution.model, part)

    @property
    def parts(self) -> list[Part]:
        return [self.base] if self.delta is None else [self.base, self.delta]

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def live_records(self) -> int:
        return sum(int((~p.retired).sum()) for p in self.parts)

    def offsets(self) -> list[int]:
        return [0, len(self.base)] if self.delta is not None else [0]

    def find(self, record_keys: npt.NDArray[np.object_]) -> Rows:
        """The live rows (across the parts, ascending) holding `record_keys`."""
        found = np.concatenate([~p.retired & p.rows_of(record_keys) for p in self.parts])
        return np.flatnonzero(found)

    def retire_rows(self, record_keys: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        """Rows (across the parts) that are older versions of `record_keys`, or retired already."""
        return np.concatenate([p.retired | p.rows_of(record_keys) for p in self.parts])

    def labels(self, rows: Rows) -> npt.NDArray[np.object_]:
        return np.concatenate([p.labels for p in self.parts])[rows] if self.delta is not None \
            else self.base.labels[rows]

    def features(self, rows: Rows) -> pd.DataFrame:
        """Features of some rows (ascending), across the parts, as plain object columns: a few rows
        concatenated with others would otherwise make pandas hash every categorical's categories."""
        if self.delta is None:
            return self.base.features.iloc[rows].astype(object).reset_index(drop=True)
        split = int(np.searchsorted(rows, len(self.base)))
        return pd.concat([self.base.features.iloc[rows[:split]].astype(object),
                          self.delta.features.iloc[rows[split:] - len(self.base)].astype(object)], ignore_index=True)

    def probe(self, rule: str, table: KeyTable, cap: int, star: bool, *, probe_side: bool) -> tuple[Pairs, int]:
        """(new row, old row) pairs of a rule over every part, retired rows left out."""
        found_a, found_b, capped = [], [], 0
        for part, offset in zip(self.parts, self.offsets(), strict=True):
            keys, probes = part.index.keys[rule]
            index = probes if probe_side else keys
            if index is None:
                continue
            (a, b), more = index.probe(table, cap, star)
            live = ~part.retired[b]
            found_a.append(a[live])
            found_b.append(b[live] + offset)
            capped += more
        if not found_a:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64)), 0
        return (np.concatenate(found_a), np.concatenate(found_b)), capped

    def has_probe_index(self, rule: str) -> bool:
        return self.base.index.keys[rule][1] is not None

    def cluster_guards(self, labels: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
        """Each label's valid unique value (its ID) and whether it holds a register record, over the parts."""
        unique = pd.Series(np.full(len(labels), None, dtype=object))
        register = np.zeros(len(labels), dtype=bool)
        for part in self.parts:
            found = part.index.cluster_unique.reindex(labels)
            unique = unique.where(unique.notna(), pd.Series(found.to_numpy(dtype=object)))
            register |= part.index.cluster_register.reindex(labels).fillna(False).to_numpy(dtype=bool)
        return unique.to_numpy(dtype=object), register

    def term_counts(self, column: str, values: pd.Index) -> tuple[npt.NDArray[np.float64], float]:
        """How many records hold each value of a term-frequency column, and how many records there are."""
        counts = np.zeros(len(values))
        total = 0.0
        for part in self.parts:
            counts += part.index.term_counts[column].reindex(values).fillna(0).to_numpy(dtype=float)
            total += float(part.index.term_totals[column])
        return counts, total

    def advance(self, record_keys: npt.NDArray[np.object_], features: pd.DataFrame,
                labels: npt.ArrayLike) -> ResolvedState:
        """The state after an increment: `features` (the changed and new records, with their `labels`)
        become the delta's rows, the older versions of their records retired."""
        base = replace(self.base, retired=self.base.retired | self.base.rows_of(record_keys))
        rows, row_labels = [features], [np.asarray(labels, dtype=object)]
        if self.delta is not None:
            keep = ~self.delta.retired & ~self.delta.rows_of(record_keys)
            rows.insert(0, self.delta.features[keep])
            row_labels.insert(0, self.delta.labels[keep])
        order = pd.concat(rows, ignore_index=True)["record_key"].astype(object).argsort(kind="stable").to_numpy()
        merged = pd.concat(rows, ignore_index=True).iloc[order].reset_index(drop=True)
        merged_labels = np.concatenate(row_labels)[order]
        if len(merged) > COMPACT_SHARE * max(len(base), 1):
            live = ~base.retired
            whole = pd.concat([base.features[live], merged], ignore_index=True)
            order = whole["record_key"].astype(object).argsort(kind="stable").to_numpy()
            labels_all = np.concatenate([base.labels[live], merged_labels])[order]
            return replace(self, base=Part.build(self.entity_type, whole.iloc[order].reset_index(drop=True),
                                                 labels_all), delta=None, base_id="")
        return replace(self, base=base, delta=Part.build(self.entity_type, merged, merged_labels))

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
