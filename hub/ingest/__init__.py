"""Landing department records: raw zone, statements and quarantine, batch by batch."""

from hub.ingest.landing import BatchCounts
from hub.ingest.runner import IngestResult, check_schema, ingest_source, record_failed_start

__all__ = ["BatchCounts", "IngestResult", "check_schema", "ingest_source", "record_failed_start"]
