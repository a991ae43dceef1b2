"""CPU seconds to load a large .docx (``load_docx``), on one core: loading must be linear.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/docx_load_speed.py     # writes benchmarks/results/docx_load_speed.json

Builds documents of 5,000 / 20,000 / 50,000 paragraphs (four styles, two formatted runs each,
as python-docx writes them) and times ``load_docx`` on each. The target: 50,000 paragraphs in
at most 7 s of CPU (before the per-pPr / per-rPr caches: 146 s, 3.6 ms per paragraph).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import docx

from lam_kedro.env.docx_io import load_docx

STYLES = ("Normal", "Heading 1", "List Bullet", "Quote")


def build(n: int, path: Path) -> Path:
    d = docx.Document()
    for i in range(n):
        p = d.add_paragraph(style=STYLES[i % len(STYLES)])
        p.add_run(f"Paragraph {i} with some words in it ").bold = i % 3 == 0
        p.add_run("and more text.").italic = True
    d.save(str(path))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "docx_load_speed.json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = build(n, Path(tmp) / f"p{n}.docx")
            t0, w0 = time.process_time(), time.perf_counter()
            doc = load_docx(path, max_paragraphs=None)
            cpu, wall = time.process_time() - t0, time.perf_counter() - w0
            assert len(doc.paragraphs()) == n
            rows.append({"paragraphs": n, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                         "ms_per_paragraph": round(1000 * cpu / n, 4)})
            print(rows[-1])
    result = {"python": platform.python_version(), "machine": platform.machine(), "target": "50,000 in <= 7 s CPU",
              "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
