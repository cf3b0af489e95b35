"""The store's keys: which master key a store accepts, the data keys it keeps wrapped, and key rotation.

A store records the check value of its master key and the token and hash keys wrapped by it (table
store_key). Opening a store with another key is refused before anything is read or written, with
both keys' fingerprints and the settings to fix; without it, data written under a second key would
mix with the first and every later read would fail on AES-GCM's tag.

A key is created only by `hub keygen --write` or by the first write to an empty store, never beside a
store that holds data: a lost key file must be an error, not a fresh key.

Rotation (`hub keys rotate`) keeps every id: the token and hash keys are only wrapped again under the
new master key, and the encryption key, the one derived from the master key, is what changes. It goes:
1. record the new key's check value and wrapped keys, and the new encryption key wrapped by the old
   master key (one transaction). From then on a hub opened with the old key seals new ciphertexts
   under the new encryption key and opens either, so the store stays readable throughout;
2. re-encrypt every ciphertext in batches, each committed with its progress marker, so a killed
   rotation resumes where it stopped when run again (with the same new key);
3. delete the resolved-state cache, sealed with the old key (hub.resolve.resolved_state: deleting it is
   always safe), then accept only the new key and drop the old one (one transaction).

A process that opened the store before the rotation began still seals with the old key, and what it
wrote behind the sweep would not open afterwards. So rotation refuses to start, and to switch keys,
while a run is alive (hub.store.runs' judgement); and every writer checks, in the transaction of each
batch it commits, that the store's key state (check value, pending next key) is the one its vault was
opened with (`check_key_unchanged`), else that batch rolls back and its run fails. On PostgreSQL the
rotation then waits for the batches that checked before it began to commit, so the sweep sees them
(the check follows the run's heartbeat, a write to the run table; on SQLite writers are serialized).

A store also records its crypto profile (hub.protect.CryptoProfile; row crypto_profile): the one
HUB_CRYPTO_PROFILE named when it was created (`standard` by default, or `gm`). Its ids and lookup tokens
are keyed digests of that profile, so it keeps it: opening it with the other setting is refused like a
wrong key. A store created before the profiles existed is `legacy-blake2b` (AES-256-GCM and keyed
BLAKE2b, which it has always used), recorded on its first open for writing; the `standard` setting
opens it, since both are the internationally standardized algorithms, and every id it holds stays valid.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hub.errors import ConfigurationError, HubError
from hub.protect import (
    LEGACY_BLAKE2B,
    CryptoProfile,
    DataKeys,
    MasterKey,
    Vault,
    crypto_profile,
    encryption_key,
    fingerprint,
    read_key,
    read_key_file,
    unwrap_key,
    wrap_key,
    write_key_file,
)
from hub.settings import HubSettings
from hub.statements.entries import ENTRY_FIELDS, ciphertext_bytes, ciphertext_text, encode
from hub.store import runs, tables

log = logging.getLogger(__name__)

CHECK, TOKEN, HASH = "key_check", "token_key", "hash_key"
NEXT_CHECK, NEXT_TOKEN, NEXT_HASH = "next_key_check", "next_token_key", "next_hash_key"
NEXT_ENCRYPT = "next_encrypt_key"   # the new encryption key, wrapped by the OLD master key: old-key readers open both
PROGRESS = "rotation_progress"
PROFILE = "crypto_profile"
HOW_TO_SET = "Set HUB_SECRET_KEY (base64 key) or HUB_KEY_FILE (path of the key file)"


def _meta(conn: Connection) -> dict[str, str]:
    k = tables.store_key.c
    return {name: value for name, value in conn.execute(sa.select(k.name, k.value))}


def _has_data(conn: Connection) -> bool:
    """True when the store holds anything sealed with a key."""
    return any(conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
               for table in (tables.raw_record, tables.statement, tables.quarantine, tables.golden_value))


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _missing_key(engine: Engine, settings: HubSettings, expected: str | None, has_data: bool) -> ConfigurationError:
    nothing = f"HUB_SECRET_KEY is not set and the key file {settings.key_file} does not exist"
    if expected is None and not has_data:
        return ConfigurationError(f"no key for the store at {_where(engine)}: {nothing}. {HOW_TO_SET}, or let "
                                  "`hub ingest` or `hub db upgrade` make one for this empty store.")
    known = f" (fingerprint {fingerprint(expected)})" if expected else ""
    return ConfigurationError(
        f"the store at {_where(engine)} is sealed with a key{known}, and no key was given: {nothing}. "
        f"{HOW_TO_SET} to the store's key; a new key is never made beside an existing store.")


def _wrong_key(engine: Engine, meta: dict[str, str], given: MasterKey) -> ConfigurationError:
    if meta.get(NEXT_CHECK) == given.check_value:
        return ConfigurationError(
            f"the store at {_where(engine)} is in the middle of a key rotation to the key given ({given.origin}, "
            f"fingerprint {given.fingerprint}); until it completes it accepts only its old key (fingerprint "
            f"{fingerprint(meta[CHECK])}): run `hub keys rotate` again with the old key set, to finish it")
    return ConfigurationError(
        f"wrong key for the store at {_where(engine)}: it expects the key with fingerprint "
        f"{fingerprint(meta[CHECK])}, the key given ({given.origin}) has fingerprint {given.fingerprint}. "
        f"{HOW_TO_SET} to the store's key, or HUB_DATABASE_URL to the store this key belongs to. "
        "Nothing was read or written.")


KeyState = tuple[str | None, str | None]
"""(check value, check value of the key a rotation is under way to): what a vault's keys depend on."""


class StoreVault(Vault):
    """A vault opened from a store, knowing the key state it was opened in (see check_key_unchanged)."""

    def __init__(self, keys: bytes | DataKeys, key_state: KeyState, profile: CryptoProfile):
        super().__init__(keys, profile)
        self.key_state = key_state


def store_profile(meta: dict[str, str], has_data: bool) -> CryptoProfile | None:
    """The crypto profile a store holds data under: the one it recorded; a store with keys or data but no
    record is older than the profiles (legacy-blake2b); None for an empty store (the setting decides)."""
    if PROFILE in meta:
        return crypto_profile(meta[PROFILE])
    return LEGACY_BLAKE2B if CHECK in meta or has_data else None


def accepts(stored: CryptoProfile, setting: str) -> bool:
    """Whether HUB_CRYPTO_PROFILE=`setting` opens a store of profile `stored`: its own name, and `standard`
    for a legacy-blake2b store (the same AES-256-GCM; its keyed BLAKE2b ids stay as they are)."""
    return stored.name == setting or (stored is LEGACY_BLAKE2B and setting == "standard")


def _profile_mismatch(engine: Engine, stored: CryptoProfile, setting: str) -> ConfigurationError:
    wanted = crypto_profile(setting)
    fits = "standard (or leave it unset)" if stored.name != "gm" else "gm"
    return ConfigurationError(
        f"crypto profile mismatch for the store at {_where(engine)}: it was created with the crypto profile "
        f"{stored.label}, and HUB_CRYPTO_PROFILE={setting} asks for {wanted.label}. A store keeps the profile it "
        f"was created with (its ids and lookup tokens are keyed digests of it): set HUB_CRYPTO_PROFILE={fits}, "
        "or HUB_DATABASE_URL to a store created under this profile. Nothing was read or written.")


class KeyChanged(HubError):
    """The store's key state moved on (a rotation began or ended) since this process opened its vault."""


def _key_state(meta: dict[str, str]) -> KeyState:
    return meta.get(CHECK), meta.get(NEXT_CHECK)


_STATE_QUERY = sa.select(tables.store_key.c.name, tables.store_key.c.value).where(
    tables.store_key.c.name.in_([CHECK, NEXT_CHECK]))


def guard_write(conn: Connection, run_id: str, vault: Vault) -> None:
    """First in a transaction that writes a run's results: the run still holds its row (its heartbeat
    raises when another run took it over) and the store's key is still the one `vault` was opened with
    (check_key_unchanged); either failing rolls the transaction back and fails the run."""
    runs.heartbeat(conn, run_id)
    check_key_unchanged(conn, vault)


def check_key_unchanged(conn: Connection, vault: Vault) -> None:
    """In a writer's transaction, after its run's heartbeat: the store's key state is still the one `vault`
    was opened with, else KeyChanged (the transaction rolls back). One query of two rows at most.

    A vault not opened from a store (a bare Vault built from a key) carries no state: nothing to compare.
    """
    if not isinstance(vault, StoreVault):
        return
    found = _key_state({name: value for name, value in conn.execute(_STATE_QUERY)})
    if found != vault.key_state:
        raise KeyChanged("the store's key changed while this run ran (`hub keys rotate` began or finished since "
                         "this process opened the store): run again. Nothing of its last step was committed")


def _vault(meta: dict[str, str], given: MasterKey) -> StoreVault:
    """The data keys of a store whose check value matched `given`: while a rotation runs, new ciphertexts are
    sealed with the new encryption key and both keys open."""
    profile = store_profile(meta, True)
    assert profile is not None
    token, hash_ = unwrap_key(given.material, meta[TOKEN]), unwrap_key(given.material, meta[HASH])
    current = encryption_key(given.material, profile)
    if NEXT_ENCRYPT in meta:
        return StoreVault(DataKeys(unwrap_key(given.material, meta[NEXT_ENCRYPT]), token, hash_,
                                   also_decrypt=(current,)), _key_state(meta), profile)
    return StoreVault(DataKeys(current, token, hash_), _key_state(meta), profile)


def _record_profile(engine: Engine, profile: CryptoProfile) -> None:
    """Record the profile of a store that has keys but no profile row yet (a store older than profiles)."""
    try:
        with engine.begin() as conn:
            conn.execute(tables.store_key.insert(), [{"name": PROFILE, "value": profile.name}])
    except IntegrityError:   # another process recorded it first: the same name, from the same rule
        return
    log.info("the store at %s recorded its crypto profile: %s", _where(engine), profile.label)


def _verify_against_data(conn: Connection, engine: Engine, given: MasterKey) -> None:
    """For a store written before check values were recorded: the key must open one of its ciphertexts."""
    sample = conn.execute(sa.select(tables.raw_record.c.payload).limit(1)).scalar()
    if sample is None:
        sample = conn.execute(sa.select(tables.quarantine.c.raw_enc).where(
            tables.quarantine.c.raw_enc.is_not(None)).limit(1)).scalar()
    if sample is None:
        return
    try:
        Vault(given.material, LEGACY_BLAKE2B).decrypt(bytes(sample))
    except InvalidTag:
        raise ConfigurationError(
            f"wrong key for the store at {_where(engine)}: the key given ({given.origin}, fingerprint "
            f"{given.fingerprint}) does not open its data. {HOW_TO_SET} to the key the store was "
            "written with. Nothing was read or written.") from None


def open_vault(engine: Engine, settings: HubSettings, *, write: bool) -> StoreVault:
    """The vault of the store behind `engine`, for the key the settings give; refused for any other key.

    `write`: the caller writes to the store. Only then is a key created (for an empty store without one)
    and are the check value and wrapped keys recorded (new stores, and stores written before migration
    0007 once their key has opened their data), and the crypto profile (a new store takes
    HUB_CRYPTO_PROFILE's; an older one is legacy-blake2b). A reader never writes.
    """
    given = read_key(settings)
    setting = settings.crypto_profile
    with engine.connect() as conn:
        meta = _meta(conn)
        has_data = CHECK in meta or _has_data(conn)
        stored = store_profile(meta, has_data)
        if stored is not None and not accepts(stored, setting):
            raise _profile_mismatch(engine, stored, setting)
        if CHECK in meta:
            if given is None:
                raise _missing_key(engine, settings, meta[CHECK], True)
            if given.check_value != meta[CHECK]:
                raise _wrong_key(engine, meta, given)
            if write and PROFILE not in meta:
                _record_profile(engine, LEGACY_BLAKE2B)
            return _vault(meta, given)
        if given is not None and has_data:
            _verify_against_data(conn, engine, given)
    profile = stored or crypto_profile(setting)
    if given is None:
        if has_data or not write:
            raise _missing_key(engine, settings, None, has_data)
        assert settings.key_file is not None
        given = write_key_file(settings.key_file)   # the first write to an empty store
        log.warning("created the hub key %s (fingerprint %s): keep it safe, the store cannot be read without it",
                    settings.key_file, given.fingerprint)
    if not write:
        return StoreVault(given.material, (None, None), profile)
    keys = DataKeys.derive(given.material, profile)
    try:
        with engine.begin() as conn:
            conn.execute(tables.store_key.insert(), [
                {"name": CHECK, "value": given.check_value},
                {"name": TOKEN, "value": wrap_key(given.material, keys.token)},
                {"name": HASH, "value": wrap_key(given.material, keys.hash)},
                {"name": PROFILE, "value": profile.name},
            ])
    except IntegrityError:   # another process recorded them first: check against what it recorded
        return open_vault(engine, settings, write=False)
    return StoreVault(keys, (given.check_value, None), profile)


# ---------------------------------------------------------------------------------------------------------------
# Rotation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sweep:
    """One column holding ciphertexts, walked in the order of its table's key."""

    table: sa.Table
    keys: tuple[str, ...]
    column: str
    reseal: Callable[[Vault, Any], tuple[Any | None, int]]
    """The column's new value (None when all its ciphertexts already are under the new key), and how many
    ciphertexts were sealed again."""


def _reseal_bytes(vault: Vault, blob: Any) -> tuple[bytes | None, int]:
    resealed = vault.reencrypt(bytes(blob))
    return resealed, int(resealed is not None)


_VALUE_ENC = ENTRY_FIELDS.index("value_enc")


def _reseal_entries(vault: Vault, text: Any) -> tuple[str | None, int]:
    """A statement row's JSON entries with each ciphertext (value_enc, base64) sealed under the new key."""
    entries = orjson.loads(text)
    changed = 0
    for entry in entries:
        if entry[_VALUE_ENC] is not None:
            resealed = vault.reencrypt(ciphertext_bytes(entry[_VALUE_ENC]))
            if resealed is not None:
                entry[_VALUE_ENC] = ciphertext_text(resealed)
                changed += 1
    return (encode(entries) if changed else None), changed


SWEEPS = (
    _Sweep(tables.raw_record, ("id",), "payload", _reseal_bytes),
    _Sweep(tables.quarantine, ("id",), "raw_enc", _reseal_bytes),
    _Sweep(tables.statement, ("id",), "statements", _reseal_entries),
    _Sweep(tables.golden_value, ("entity_id", "attribute"), "value_enc", _reseal_bytes),
    _Sweep(tables.webhook, ("id",), "secret_enc", _reseal_bytes),
)
"""Every ciphertext the store holds (grep encrypt/value_enc/raw_enc when adding one)."""


@dataclass
class RotationReport:
    new_key: MasterKey
    new_key_file: Path
    resumed: bool
    resealed: int
    batches: int
    state_files_removed: int


OnBatch = Callable[[str, int], None]
"""Called after each committed batch with the table and the ciphertexts resealed in it."""


def next_key_file(settings: HubSettings, path: Path | None) -> Path:
    """Where the key to rotate to is: `path`, by default the key file's name + ".new"."""
    assert settings.key_file is not None
    return path or settings.key_file.with_name(settings.key_file.name + ".new")


def next_key(path: Path) -> MasterKey:
    """The key to rotate to: read from `path` when it exists (a key from `hub keygen --write`, or the one a
    killed rotation made), else a fresh one written there."""
    origin = f"new key file {path}"
    return read_key_file(path, origin) if path.exists() else write_key_file(path, origin)


def _begin(engine: Engine, meta: dict[str, str], old: MasterKey, new: MasterKey) -> bool:
    """Record the rotation to `new`; True when it was already under way (a resumed rotation)."""
    if new.check_value == meta[CHECK]:
        raise ConfigurationError(f"the new key ({new.origin}) is the store's current key: nothing to rotate "
                                 "(remove that file, or name another with --new-key-file, to rotate to a fresh key)")
    if NEXT_CHECK in meta:
        if meta[NEXT_CHECK] != new.check_value:
            raise ConfigurationError(
                f"a rotation of the store at {_where(engine)} to another key (fingerprint "
                f"{fingerprint(meta[NEXT_CHECK])}) is under way, not to the key in {new.origin} (fingerprint "
                f"{new.fingerprint}): run `hub keys rotate --new-key-file` with the file of that key to finish it")
        return True
    token, hash_ = unwrap_key(old.material, meta[TOKEN]), unwrap_key(old.material, meta[HASH])
    profile = store_profile(meta, True)
    assert profile is not None
    with engine.begin() as conn:
        conn.execute(tables.store_key.insert(), [
            {"name": NEXT_CHECK, "value": new.check_value},
            {"name": NEXT_TOKEN, "value": wrap_key(new.material, token)},
            {"name": NEXT_HASH, "value": wrap_key(new.material, hash_)},
            {"name": NEXT_ENCRYPT, "value": wrap_key(old.material, encryption_key(new.material, profile))},
            {"name": PROGRESS, "value": json.dumps({"table": SWEEPS[0].table.name, "after": None})},
        ])
    return False


def _sweep(engine: Engine, vault: Vault, sweep: _Sweep, after: list[Any] | None, batch_size: int,
           on_batch: OnBatch | None) -> tuple[int, int]:
    """Reseal one column batch by batch from `after` (its key), each batch committed with the progress marker."""
    table = sweep.table
    key_columns = [table.c[name] for name in sweep.keys]
    column = table.c[sweep.column]
    key = key_columns[0] if len(key_columns) == 1 else sa.tuple_(*key_columns)
    update = table.update().where(*(c == sa.bindparam(f"k_{c.name}") for c in key_columns)).values(
        {sweep.column: sa.bindparam("v_new")})
    progress = tables.store_key.update().where(tables.store_key.c.name == PROGRESS)
    resealed = batches = 0
    while True:
        query = sa.select(*key_columns, column).where(column.is_not(None)).order_by(*key_columns).limit(batch_size)
        if after is not None:
            query = query.where(key > (after[0] if len(after) == 1 else tuple(after)))
        with engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return resealed, batches
            changes, sealed = [], 0
            for row in rows:
                new_value, count = sweep.reseal(vault, row[-1])
                sealed += count
                if new_value is not None:
                    changes.append({**{f"k_{name}": row[i] for i, name in enumerate(sweep.keys)}, "v_new": new_value})
            if changes:
                conn.execute(update, changes)
            after = list(rows[-1][:-1])
            conn.execute(progress.values(value=json.dumps({"table": table.name, "after": after}, default=str)))
        resealed += sealed
        batches += 1
        if on_batch is not None:
            on_batch(table.name, sealed)


def _finish(engine: Engine, new: MasterKey) -> None:
    """Accept only the new key: its check value and wrapped keys replace the old, the old key's rows go."""
    k = tables.store_key.c
    with engine.begin() as conn:
        meta = _meta(conn)
        unwrap_key(new.material, meta[NEXT_TOKEN])   # the new key opens what it will have to, or nothing changes
        for current, upcoming in ((CHECK, NEXT_CHECK), (TOKEN, NEXT_TOKEN), (HASH, NEXT_HASH)):
            conn.execute(tables.store_key.update().where(k.name == current).values(value=meta[upcoming]))
        conn.execute(tables.store_key.delete().where(k.name.in_([NEXT_CHECK, NEXT_TOKEN, NEXT_HASH, NEXT_ENCRYPT,
                                                                 PROGRESS])))


class RotationRefused(HubError):
    """A key rotation cannot start, or cannot switch keys, beside a run that writes to the store."""


def _refuse_beside_live_runs(engine: Engine, settings: HubSettings, step: str) -> None:
    """A run alive (as hub.store.runs judges it: process table or heartbeat age) may seal with the old key
    what the sweep will not see again: refuse, naming each run."""
    live = runs.live_runs(engine, stale_after=settings.stale_after)
    if live:
        raise RotationRefused(
            f"the key rotation of the store at {_where(engine)} {step} while runs write to it: "
            + "; ".join(runs.describe(row) for row in live)
            + ". What they write meanwhile could be left under the old key: wait until they end (`hub status`), "
            "then run `hub keys rotate` again")


def _wait_for_checked_batches(engine: Engine) -> None:
    """PostgreSQL: wait for the writers' transactions that checked the key state before the rotation was
    recorded, so that the sweep sees what they commit. Each holds a write lock on the run table (its
    heartbeat, written before its check) until it commits; SHARE mode waits for every one of them. Writers
    checking later see the rotation and roll back. (SQLite serializes writers: nothing to wait for.)"""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(sa.text(f"LOCK TABLE {engine.dialect.identifier_preparer.format_table(tables.run)} "
                             "IN SHARE MODE"))


def _remove_state_files(state_dir: Path) -> int:
    """The resolved-state cache is sealed with the old key: gone, the next resolution reads the store."""
    removed = 0
    for path in sorted(state_dir.glob("*")) if state_dir.is_dir() else []:
        if path.suffix in (".state", ".base", ".partial"):
            path.unlink()
            removed += 1
    return removed


def rotate_key(engine: Engine, settings: HubSettings, new_key_file: Path | None = None, *, batch_size: int = 2000,
               on_batch: OnBatch | None = None) -> RotationReport:
    """Re-encrypt the store under the key of `new_key_file` (see `next_key`), keeping every id and token;
    resumable: run it again after a kill, with the same file.

    The settings give the store's current key, checked before anything else (a wrong one leaves no new key
    file behind). When this returns, the store accepts only the new key: the operator replaces the key
    file or HUB_SECRET_KEY with it.
    """
    old = read_key(settings)
    if old is None:   # a rotation never makes a key: open_vault says what is missing, and writes nothing
        try:
            open_vault(engine, settings, write=False)
        except ConfigurationError as exc:
            raise ConfigurationError(f"no key to rotate from: {exc}") from None
        raise AssertionError("open_vault accepted a store without a key")
    open_vault(engine, settings, write=True)   # the current key must be the store's (and be recorded)
    _refuse_beside_live_runs(engine, settings, "cannot start")
    new_key_file = next_key_file(settings, new_key_file)
    new = next_key(new_key_file)
    with engine.connect() as conn:
        meta = _meta(conn)
    resumed = _begin(engine, meta, old, new)
    _wait_for_checked_batches(engine)
    with engine.connect() as conn:
        meta = _meta(conn)
    marker = json.loads(meta[PROGRESS])
    vault = _vault(meta, old)
    names = [sweep.table.name for sweep in SWEEPS]
    resealed = batches = 0
    for sweep in SWEEPS[names.index(marker["table"]):]:
        after = marker["after"] if sweep.table.name == marker["table"] else None
        done, count = _sweep(engine, vault, sweep, after, batch_size, on_batch)
        resealed, batches = resealed + done, batches + count
    _refuse_beside_live_runs(engine, settings, "did not switch to the new key (run it again to finish)")
    removed = _remove_state_files(settings.home / "state")   # before the switch: a kill leaves none behind
    _finish(engine, new)
    log.info("key rotation done: %d ciphertexts resealed in %d batches", resealed, batches)
    return RotationReport(new, new_key_file, resumed, resealed, batches, removed)


__all__ = ["SWEEPS", "KeyChanged", "RotationRefused", "RotationReport", "StoreVault", "accepts",
           "check_key_unchanged", "guard_write", "next_key", "next_key_file", "open_vault", "rotate_key",
           "store_profile"]
