"""Print a weights file as the Markdown table docs/matching.md shows.

    python -m bench.resolve.weights_table hub/resolve/weights/person.json
"""

from __future__ import annotations

import sys
from pathlib import Path

from hub.resolve.model import Model, weights_frame


def markdown(model: Model) -> str:
    table = weights_frame(model)
    lines = [f"Prior λ = {model.prior:.4g} (log2 odds {model.prior_weight:+.2f}); match ≥ {model.upper:+.1f}, "
             f"review ≥ {model.lower:+.1f}.", "", "| comparison | level | m | u | weight |", "|---|---|---:|---:|---:|"]
    for row in table.to_dict("records"):
        m, u = (f"{row[k]:.3g}" if isinstance(row[k], float) and row[k] == row[k] else "–" for k in ("m", "u"))
        lines.append(f"| {row['comparison']} | {row['level']} | {m} | {u} | {row['weight']:+.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(markdown(Model.load(Path(path))))
        print()
