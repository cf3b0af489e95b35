"""Data quality: expectation suites derived from the mappings and the canonical model, the gate that holds a
batch failing a critical one out of fusion and publication, retirement of records gone from a source read in
full, and the auditors' static HTML report.

great-expectations is imported only where a suite runs (hub.quality.validate), once per process: its import
takes seconds, and every ingest worker imports this package.
"""

from hub.quality.gate import (
    APPROVED,
    HELD,
    PUBLISHED,
    SUPERSEDED,
    BatchInfo,
    GateResult,
    approve,
    batches,
    visible,
)

__all__ = ["APPROVED", "HELD", "PUBLISHED", "SUPERSEDED", "BatchInfo", "GateResult", "approve", "batches",
           "visible"]
