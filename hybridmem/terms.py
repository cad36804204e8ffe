"""What the indexes key and analyse, shared by the lexical and dense ones: an owner's key, a
row's indexed text, the CJK terms of a text, and the empty hit list every retriever returns."""

from __future__ import annotations

import re

import numpy as np

from .store import StoredRow
from .types import Memory

__all__ = ["cjk_terms", "empty_hits", "index_text", "owner_key"]

_CJK_RUN = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]+"
)


def owner_key(kind: str, user_id: str) -> str:
    return f"{kind}:{user_id}"


def index_text(row: StoredRow) -> str:
    item = row.item
    if isinstance(item, Memory):
        return "\n".join([item.memory_key, item.memory_value, *item.tags])
    return item.preference


# Chinese function characters (particles, copula, pronouns, question words): the most
# frequent characters of any text, so a query's match on them (or on a bigram holding one,
# like 的是) says nothing about relevance, yet scores high wherever few Chinese texts are
# indexed. Dropped from queries; documents keep them (their index stays unchanged).
_CJK_STOP = frozenset(
    "的了是在和与及也都就还又而或"  # particles, copula, conjunctions
    "吗吧呢啊呀哦嘛着过个这那"  # sentence particles, aspect, demonstratives
    "我你他她它们之其什么怎哪"  # pronouns, question words
)


def cjk_terms(text: str, *, for_query: bool = False) -> list[str]:
    """Unigrams and bigrams of CJK runs (Luk & Kwok, "A comparison of Chinese document
    indexing strategies and retrieval models", TALIP 2002: the pair beats either alone).

    Documents index every unigram and bigram. Queries drop function characters and the bigrams
    holding one, so a question phrased around a memory ("我问的是去哪里的票") still matches it
    on its content characters.
    """
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
        if for_query:
            out.extend(c for c in run if c not in _CJK_STOP)
            out.extend(b for b in bigrams if b[0] not in _CJK_STOP and b[1] not in _CJK_STOP)
        else:
            out.extend(run)
            out.extend(bigrams)
    return out


def empty_hits() -> tuple[np.ndarray, np.ndarray]:
    """No hits: ``(docs int64, scores float32)`` of length 0, as every retriever returns."""
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
