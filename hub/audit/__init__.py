"""The audit log: every read and write, hash-chained and keyed, appended in the transaction of the request.

`append` in the caller's transaction, `seal` (or a running `Sealer`) chains what was appended, `record`
appends in a transaction of its own and seals, `verify` the whole chain; `query`, `export` and `prune`
(hub.audit.log) for auditors.
"""

from hub.audit.chain import (
    GENESIS_HASH,
    PRUNE_ACTION,
    AuditEntry,
    AuditValueError,
    Sealer,
    VerifyResult,
    append,
    record,
    seal,
    seal_pending,
    verify,
)
from hub.audit.log import (
    RETENTION,
    AuditPage,
    AuditQueryError,
    AuditRow,
    ExportResult,
    PruneResult,
    export,
    prune,
    query,
)

__all__ = ["GENESIS_HASH", "PRUNE_ACTION", "RETENTION", "AuditEntry", "AuditPage", "AuditQueryError", "AuditRow",
           "AuditValueError", "ExportResult", "PruneResult", "Sealer", "VerifyResult", "append", "export", "prune",
           "query", "record", "seal", "seal_pending", "verify"]
