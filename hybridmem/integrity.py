"""The full verification of a store directory (``hybridmem check``), read-only.

What opening a store checks cheaply (headers, checksums; see :mod:`hybridmem.derived` and
:mod:`hybridmem.sqlite_file`), this checks completely:

* ``store.sqlite``: ``PRAGMA integrity_check``, every activated row decodes, every stored
  embedding is unit length, the kept count of activated items is right;
* ``manifest.json``: readable, and of this format, model and dimension;
* lexical: every file of the live Tantivy segments against its footer crc32, and the docs of each
  owner equal the store's;
* dense: ``blocks.json``, the small arrays and every block's vectors against their crc32, and, after
  replaying the change log over the snapshot in memory, each owner's docs, vectors (bit for bit),
  creation times and conversations equal the store's.

Nothing is written (the store is opened with SQLite's ``mode=ro``; Tantivy is only searched), so
it runs beside a process serving the store: the store is read in one transaction, and docs that
changed since the state the lexical index was known to reflect are left out of its comparison.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import msgspec
import numpy as np

from .dense import DenseIndex, Repair
from .derived import replay
from .errors import DenseIndexError, StoreError
from .lexical import LexicalIndex
from .manifest import DENSE_DIR, FORMAT_VERSION, LEXICAL_DIR, Manifest, index_path, read_manifest
from .store import STORE_FILE, Store, StoredRow
from .tantivy_files import damaged_files
from .terms import owner_key

__all__ = ["CheckReport", "Finding", "check_store"]

_EXAMPLES = 5  # problems of one kind listed before "and N more"
_RETRIES = 3  # a serving process may replace the dense snapshot while it is read
_NO_WRITER = 1 << 24  # the check never writes, so never allocates a writer's heap


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """What the check found in one part of the store (``problems`` empty: sound)."""

    part: str
    checked: str
    problems: list[str]


class CheckReport(msgspec.Struct, frozen=True, kw_only=True):
    """The findings of :func:`check_store`, part by part."""

    directory: str
    findings: list[Finding]
    seconds: float

    @property
    def sound(self) -> bool:
        return all(not f.problems for f in self.findings)


def check_store(directory: str | Path) -> CheckReport:
    """Verify everything in a store directory; writes nothing.

    Raises:
        StoreError: ``directory`` is not a store (no ``store.sqlite``).
    """
    started = time.perf_counter()
    directory = Path(directory)
    if not (directory / STORE_FILE).is_file():
        raise StoreError(f"{directory} is not a hybridmem store (no {STORE_FILE})")
    try:
        store = Store(directory, read_only=True)
    except StoreError as exc:
        findings = [Finding(part=STORE_FILE, checked="header and schema", problems=[str(exc)])]
    else:
        try:
            findings = _check_open_store(directory, store)
        except StoreError as exc:  # SQLite failed a read: a page it cannot parse
            findings = [Finding(part=STORE_FILE, checked="reading", problems=[str(exc)])]
        finally:
            store.close()
    return CheckReport(
        directory=str(directory), findings=findings, seconds=time.perf_counter() - started
    )


def _check_open_store(directory: Path, store: Store) -> list[Finding]:
    errors = store.integrity_errors()
    manifest, manifest_finding = _check_manifest(directory, store)
    rows = _StoreRows(store)
    if manifest is None:
        with store.read_snapshot():
            for _ in rows.owners():
                pass
        return [rows.finding(errors), manifest_finding]
    lexical = _LexicalCheck(index_path(directory, LEXICAL_DIR, manifest.lexical.generation))
    for attempt in range(_RETRIES):
        with store.read_snapshot():
            dense = _DenseCheck(directory, store, manifest, last=attempt == _RETRIES - 1)
            if not dense.settled:
                continue
            if manifest.lexical.seq > store.max_seq():
                lexical.problems.append(
                    f"reflects change {manifest.lexical.seq}, the store only {store.max_seq()}"
                )
            for owner, group in rows.owners():
                lexical.compare(owner, np.array([r.doc for r in group], dtype=np.int64))
                dense.compare(owner, group)
            lexical.count_all()
        break
    lexical.forgive(store, manifest.lexical.seq)  # and the changes made since the transaction
    return [rows.finding(errors), manifest_finding, lexical.finding(), dense.finding()]


def _check_manifest(directory: Path, store: Store) -> tuple[Manifest | None, Finding]:
    manifest = read_manifest(directory)
    model, dim = store.meta_get("model"), store.meta_get("dim")
    if manifest is None:
        problem = "missing or unreadable: every index is rebuilt when the store next opens"
        return None, Finding(part="manifest.json", checked="decoding", problems=[problem])
    problems = []
    if manifest.format_version != FORMAT_VERSION:
        problems.append(f"format {manifest.format_version}, this hybridmem writes {FORMAT_VERSION}")
    if (manifest.model, str(manifest.dim)) != (model, dim):
        problems.append(
            f"describes {manifest.model} ({manifest.dim}-d), the store {model} ({dim}-d)"
        )
    checked = f"format {manifest.format_version}, model {manifest.model}, {manifest.dim}-d"
    return manifest, Finding(part="manifest.json", checked=checked, problems=problems)


class _StoreRows:
    """The store's activated rows, owner by owner, checked as they are read."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.rows = 0
        self.problems: list[str] = []
        self._bad_norms: list[int] = []

    def owners(self) -> Iterator[tuple[str, list[StoredRow]]]:
        try:
            flat = (row for batch in self._store.iter_active() for row in batch)
            for owner, group in groupby(flat, key=lambda r: owner_key(r.kind, r.user_id)):
                rows = list(group)
                self.rows += len(rows)
                self._bad_norms += [r.doc for r in rows if not _unit(r.embedding)]
                yield owner, rows
        except msgspec.DecodeError as exc:  # a garbled row body
            self.problems.append(f"a stored item cannot be decoded ({exc}); stopped reading there")
            return
        if self._bad_norms:
            self.problems.append(
                _some("stored embeddings are not unit length: docs", self._bad_norms)
            )
        kept = self._store.count_active()
        if kept != self.rows:
            self.problems.append(
                f"the kept count of activated items is {kept}, there are {self.rows}"
            )

    def finding(self, errors: list[str]) -> Finding:
        checked = f"integrity_check; {self.rows} activated items read back"
        return Finding(part=STORE_FILE, checked=checked, problems=errors + self.problems)


class _LexicalCheck:
    """The live Tantivy index: its files, then each owner's docs against the store's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems = damaged_files(path) if path.is_dir() else ["missing"]
        self.index: LexicalIndex | None = None
        if not self.problems:
            try:
                self.index = LexicalIndex(path, heap_bytes=_NO_WRITER, create=False)
            except (ValueError, OSError) as exc:
                self.problems.append(f"cannot be opened: {exc}")
        self.owners = self._counted = 0
        self._docs: dict[int, str] = {}  # doc -> how it differs from the store
        self._counts: list[str] = []  # differences no single doc explains

    def compare(self, owner: str, docs: np.ndarray) -> None:
        if self.index is None:
            return
        kind, _, user_id = owner.partition(":")
        found, count = self.index.owner_docs(kind, user_id, len(docs) + _EXAMPLES)
        self.owners += 1
        self._counted += count
        self._docs.update((d, f"{owner} lacks doc {d}") for d in np.setdiff1d(docs, found).tolist())
        self._docs.update((d, f"{owner} has doc {d}") for d in np.setdiff1d(found, docs).tolist())
        if count > len(found):
            self._counts.append(f"{owner} has {count} docs, the store {len(docs)}")

    def count_all(self) -> None:
        """Docs of owners the store does not know show only in the total."""
        if self.index is not None and self.index.num_docs() != self._counted:
            total = self.index.num_docs()
            self._counts.append(f"{total} docs in all, {self._counted} of the store's owners")

    def forgive(self, store: Store, seq: int) -> None:
        """Drop the differences that the changes after ``seq`` (the state the manifest says the
        index reflects) may explain: a writer commits to Tantivy after SQLite."""
        if not (self._docs or self._counts):
            return
        if store.min_change_seq() - 1 > seq:
            self.problems.append(f"reflects change {seq}; the store's log no longer reaches back")
            return
        changed = {doc for doc, _ in store.changes_since(seq)[0]}
        left = [why for doc, why in sorted(self._docs.items()) if doc not in changed]
        if not changed:
            left += self._counts
        if left:
            self.problems.append(_some("differs from the store:", left))

    def finding(self) -> Finding:
        checked = f"segment files against their crc32; docs of {self.owners} owners"
        return Finding(part=self.path.name, checked=checked, problems=self.problems)


class _DenseCheck:
    """The dense snapshot, checked whole and caught up with the store in memory."""

    def __init__(self, directory: Path, store: Store, manifest: Manifest, *, last: bool) -> None:
        self.path = index_path(directory, DENSE_DIR, manifest.dense.generation)
        self.problems: list[str] = []
        self.damaged: list[str] = []
        self.owners = self.vectors = 0
        self.index: DenseIndex | None = None
        self.settled = True
        seq = store.max_seq()
        try:
            index, saved = DenseIndex.load(self.path, manifest.dim, repair=self._repair(store))
        except DenseIndexError as exc:
            self.settled = last  # the server may have been replacing it: read it again
            self.problems.append(str(exc))
            return
        if saved > seq or store.min_change_seq() - 1 > saved:
            self.settled = last  # saved (and the log pruned) after this transaction began
            self.problems.append(f"snapshot of change {saved} cannot be caught up to {seq}")
            return
        index.verify()
        replay(store, saved, None, index)
        self.index = index
        self._left = set(index.owner_keys())

    def _repair(self, store: Store) -> Repair:
        def repair(owner: str) -> list[StoredRow]:
            self.damaged.append(owner)
            kind, _, user_id = owner.partition(":")
            return store.owner_rows(user_id, kind)  # type: ignore[arg-type]

        return repair

    def compare(self, owner: str, rows: list[StoredRow]) -> None:
        if self.index is None:
            return
        self._left.discard(owner)
        self.owners += 1
        docs, vecs, times, convs = self.index.contents(owner)
        want = {r.doc: r for r in rows if r.embedding is not None}
        self.vectors += len(docs)
        if sorted(want) != sorted(docs.tolist()):
            self.problems.append(
                f"{owner}: docs {sorted(docs.tolist())[:8]} in the index, "
                f"{sorted(want)[:8]} in the store"
            )
            return
        for doc, vec, t, conv in zip(docs.tolist(), vecs, times.tolist(), convs, strict=True):
            row = want[doc]
            if row.embedding is None or not np.array_equal(vec, row.embedding):
                self.problems.append(f"{owner} doc {doc}: vector differs from the stored embedding")
            elif (row.item.create_time, row.item.conversation_id) != (
                None if np.isnan(t) else t,
                conv,
            ):
                self.problems.append(f"{owner} doc {doc}: time or conversation differs")

    def finding(self) -> Finding:
        problems = list(self.problems)
        if self.damaged:
            problems.insert(0, _some("vectors fail their checksum:", self.damaged))
        if self.index is not None and self._left:
            problems.append(_some("blocks of owners the store does not have:", sorted(self._left)))
        checked = (
            f"blocks.json, arrays and block vectors against their crc32; {self.vectors} "
            f"vectors of {self.owners} owners against the stored embeddings"
        )
        return Finding(part=self.path.name, checked=checked, problems=problems[: 2 * _EXAMPLES])


def _unit(embedding: np.ndarray | None) -> bool:
    return embedding is None or abs(float(embedding @ embedding) - 1.0) < 1e-3


def _some(what: str, items: list) -> str:
    shown = ", ".join(str(i) for i in items[:_EXAMPLES])
    more = f" and {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else ""
    return f"{what} {shown}{more}"
