"""Term coverage on an index written the way services write one (many small commits, upserts
and deletes, so many segments): every way ``term_matches`` chooses the documents it searches
gives the matrix the analyzer gives, for every user and query."""

from __future__ import annotations

import itertools

import numpy as np

from hybridmem.lexical import LexicalIndex, cjk_terms, index_text
from hybridmem.store import StoredRow
from hybridmem.types import Memory

WORDS = [f"w{i}" for i in range(300)] + ["hotel", "travel", "咖啡", "长沙", "喜欢喝咖啡"]


def _row(doc: int, user: int, rng: np.random.Generator) -> StoredRow:
    p = 1.0 / np.arange(1, len(WORDS) + 1)  # Zipf: common words span every user
    text = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 15)), p=p / p.sum()))
    item = Memory(id=f"m{doc}", user_id=f"u{user}", memory_value=text)
    return StoredRow(doc=doc, kind="memory", user_id=f"u{user}", status="activated", item=item,
                     embedding=None)  # fmt: skip


def test_term_matches_on_many_segments() -> None:
    rng = np.random.default_rng(3)
    lex = LexicalIndex(None, heap_bytes=15_000_000, create=True)
    live: dict[int, StoredRow] = {}
    keys = itertools.count()
    for _ in range(40):  # one commit (one segment) per step, as small adds make
        new = [_row(next(keys), int(rng.integers(12)), rng) for _ in range(30)]
        upserted = [_row(d, int(live[d].user_id[1:]), rng)
                    for d in rng.choice(list(live), size=min(5, len(live)), replace=False)
                    ] if live else []  # fmt: skip
        gone = [int(d) for d in rng.choice(list(live), size=min(3, len(live)), replace=False)]
        for d in gone:
            live.pop(d, None)
        for row in [*new, *upserted]:
            live[row.doc] = row
        lex.apply([*gone, *(r.doc for r in upserted)], [*new, *upserted])
    assert lex.num_segments() > 1 and lex.num_docs() == len(live)
    for u in range(12):
        mine = sorted((r for r in live.values() if r.user_id == f"u{u}"), key=lambda r: r.doc)
        docs = np.array([r.doc for r in mine], dtype=np.int64)
        analysed = [(set(lex.analyze(index_text(r))), set(cjk_terms(index_text(r)))) for r in mine]
        for q in range(5):
            query = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 30))))
            terms = lex.query_terms(query, 256)
            want = np.array(
                [[t in w for t in terms[0]] + [g in c for g in terms[1]] for w, c in analysed],
                dtype=bool,
            ).T.reshape(len(terms[0]) + len(terms[1]), len(mine))
            some = np.sort(rng.choice(docs, size=len(docs) // 2, replace=False))
            cols = np.searchsorted(docs, some)
            for way in ({"among": "docs"}, {"owner_size": len(mine)}, {"owner_size": 2}):
                got = lex.term_matches("memory", f"u{u}", docs, terms, **way)
                assert (got == want).all(), (u, q, way)
                part = lex.term_matches("memory", f"u{u}", some, terms, **way)
                assert (part == want[:, cols]).all(), (u, q, way)
