"""Onboarding a department: suggest a mapping for a new source, check it against the source, preview it.

Plain functions the CLI (`hub mappings ...`), the tests and the benchmark call:

- `locate_file / locate_sql / locate_http` → a `SourceRef` (connector kind and settings, detected hints);
- `SourceRef.sample(rows)` / `mapping_sample(spec, settings, rows)` → a `Sample` read through the connector;
- `suggest_mapping(ref, sample, ...)` → a `Draft`; `render(draft)` → YAML with a comment on every line;
- `check_mapping(spec, lines, sample)` → `Finding`s (columns exist, maps cover the values, conditions match);
- `preview_rows(spec, sample)` → `RowPreview`s (raw beside normalized, statements, quarantine);
- `compare(draft_spec, final_spec, sample)` → how many columns a draft got right, lines changed.
"""

from hub.onboard.check import Finding, check_mapping
from hub.onboard.draft import Draft, render
from hub.onboard.locate import SourceRef, locate_file, locate_http, locate_sql
from hub.onboard.measure import Comparison, compare
from hub.onboard.preview import RowPreview, preview_rows
from hub.onboard.sample import Sample, mapping_sample, read_sample
from hub.onboard.suggest import suggest_mapping

__all__ = [
    "Comparison",
    "Draft",
    "Finding",
    "RowPreview",
    "Sample",
    "SourceRef",
    "check_mapping",
    "compare",
    "locate_file",
    "locate_http",
    "locate_sql",
    "mapping_sample",
    "preview_rows",
    "read_sample",
    "render",
    "suggest_mapping",
]
