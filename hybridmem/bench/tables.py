"""Markdown tables of quality reports, and the README sections they fill.

``make bench-quality`` writes one JSON report per dataset, then ``hybridmem bench tables``
rewrites every README block between ``<!-- quality:NAME -->`` and ``<!-- /quality:NAME -->``
with the table NAME names: ``DATASET`` (the main table), ``DATASET-kinds`` (hit@1 and nDCG@10
per query kind) or ``DATASET-thresholds`` (the threshold guide of ``hybrid``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import msgspec

from ..errors import InvalidRequestError
from .quality import QualityReport, Scores, format_table

__all__ = ["kinds_table", "render", "thresholds_table", "update_readme"]


def _cell(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def kinds_table(report: QualityReport) -> str:
    """hit@1 / nDCG@10 per query kind (rows) and system (columns)."""
    names = list(report.systems)
    first = report.systems[names[0]]
    head = "| kind | queries | " + " | ".join(names) + " |"
    rule = "|---|---:|" + "---:|" * len(names)
    rows = [head, rule]
    for kind, k in first.per_kind.items():
        cells = []
        for name in names:
            s = report.systems[name].per_kind.get(kind)
            cells.append("–" if s is None else f"{s.hit_1:.2f} / {s.ndcg_10:.2f}")
        rows.append(f"| {kind} | {k.queries} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def thresholds_table(scores: Scores) -> str:
    """Per threshold: hits kept, their precision and recall (of the relevant hits returned), for
    each answer list; then each list's ECE and the off-topic surface and stale-first rates."""
    kinds = list(scores.lists)
    head = "| relativity ≥ | " + " | ".join(f"{k}s kept | precision | recall" for k in kinds) + " |"
    rule = "|---:|" + "---:|---:|---:|" * len(kinds)
    rows = [head, rule]
    for i, kept in enumerate(scores.lists[kinds[0]].kept):
        cells = []
        for k in kinds:
            row = scores.lists[k].kept[i]
            cells.append(f"{row.kept} | {_cell(row.precision, 2)} | {_cell(row.recall, 2)}")
        rows.append(f"| {kept.threshold:.1f} | " + " | ".join(cells) + " |")
    notes = []
    for k in kinds:
        lr = scores.lists[k]
        notes.append(
            f"{k} hits: {lr.queries} queries, {lr.returned} of {lr.relevant} relevant items "
            f"returned, ECE {lr.ece:.3f}"
        )
    if scores.offtopic is not None:
        surf = scores.offtopic.surface
        parts = [f"top {k} ≥ {t}: {v:.2f}" for k, by in surf.items() for t, v in by.items()]
        notes.append(f"off-topic ({scores.offtopic.queries} queries) surface rate: "
                     + ", ".join(parts))  # fmt: skip
    if scores.stale_first is not None:
        notes.append(f"stale answer ranked above every current one: {scores.stale_first:.2f} "
                     f"of {scores.stale_queries} queries")  # fmt: skip
    return "\n".join(rows) + "\n\n" + "; ".join(notes) + "."


def render(report: QualityReport, table: str) -> str:
    """The table named ``table`` (``""``, ``"kinds"`` or ``"thresholds"``) of ``report``."""
    if table == "":
        return format_table(report)
    if table == "kinds":
        return kinds_table(report)
    if table == "thresholds":
        if "hybrid" not in report.systems:
            raise InvalidRequestError("the threshold table needs a `hybrid` run")
        return thresholds_table(report.systems["hybrid"])
    raise InvalidRequestError(f"unknown table {table!r} (kinds, thresholds or none)")


_BLOCK = re.compile(
    r"(<!-- quality:(?P<name>[\w.-]+) -->\n).*?(\n<!-- /quality:(?P=name) -->)", re.S
)


def update_readme(readme: Path, reports: Mapping[str, Path]) -> list[str]:
    """Rewrite every block of ``readme`` naming one of ``reports`` (``name -> JSON path``;
    ``name-kinds`` / ``name-thresholds`` for the other tables); returns the blocks written."""
    loaded = {
        name: msgspec.json.decode(path.read_bytes(), type=QualityReport)
        for name, path in reports.items()
    }
    written: list[str] = []

    def fill(m: re.Match[str]) -> str:
        name = m["name"]
        for base, report in loaded.items():
            for suffix in ("", "-kinds", "-thresholds"):
                if name == base + suffix:
                    written.append(name)
                    return m.group(1) + render(report, suffix.lstrip("-")) + m.group(3)
        return m.group(0)

    text = _BLOCK.sub(fill, readme.read_text(encoding="utf-8"))
    readme.write_text(text, encoding="utf-8")
    return written
