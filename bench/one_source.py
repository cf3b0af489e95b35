"""One large source: a seeded one-file GBK export of a public-security office (实有人口), two free-text
addresses per row (户籍地址 and 居住地址) beside the person columns, and the mapping an operator would use.

The rows come from the unseen-export generator (tests.hub.onboard.unseen, public security, Chinese headers,
free-text addresses), written in chunks so that a million rows never sit in memory at once; record ids are
numbered over the whole file. Synthetic data only.

    python -m bench.one_source OUT_DIR [--rows 1000000] [--seed 5]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tests.hub.onboard.unseen import _authority, _Builder, _public_security

SOURCE = "gongan_one_source"
FILE_NAME = "公安_实有人口.csv"
CHUNK = 50_000


def generate(out: Path, rows: int, seed: int = 5) -> Path:
    """Write the export and its mapping (mappings/SOURCE.yaml) under `out`; the export's path."""
    out.mkdir(parents=True, exist_ok=True)
    builder = _Builder(random.Random(seed), "zh", split=False)
    path = out / FILE_NAME
    body: dict[str, Any] = {}
    with path.open("w", encoding="gbk", newline="") as handle:
        for start in range(0, rows, CHUNK):
            builder.rows = []
            body, _ = _public_security(builder, min(CHUNK, rows - start))
            frame = pd.DataFrame(builder.rows)
            frame[builder.h("ga_id")] = [f"SY650102{i:08d}" for i in range(start + 1, start + len(frame) + 1)]
            frame.to_csv(handle, index=False, header=start == 0)
    mapping = {"source": SOURCE, "department": "public_security", "title": path.stem,
               "connector": {"kind": "file", "settings": {"path": FILE_NAME, "encoding": "auto"}}, **body,
               "authority": _authority("public_security", body["entities"])}
    (out / "mappings").mkdir(exist_ok=True)
    (out / "mappings" / f"{SOURCE}.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False),
                                                    encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    print(generate(args.out, args.rows, args.seed))


if __name__ == "__main__":
    main()
