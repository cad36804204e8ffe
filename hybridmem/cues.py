"""Query-side cues for the relevance model, read from the query text alone (English and
Chinese word lists; deterministic).

* :func:`tense`: does the question ask about the present ("where do I live *now*", "现在")
  or about the past ("where did I live *before*", "*used to*", "以前")? A memory replaced by a
  newer one answers the second kind, not the first.
* :func:`refers_back`: does it point back into the conversation ("what did *you say*",
  "make *it* shorter", "刚才")? Then the caller's current conversation matters most.
* :func:`cjk_share`: how much of it is Chinese/Japanese/Korean (the bundled encoder is English,
  so its cosines mean less there).
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["QueryCues", "cjk_share", "query_cues", "refers_back", "tense"]

_PAST_EN = re.compile(
    r"\b(?:before|used to|use to|previously|formerly|former|(?:my|our|the|his|her) (?:old|ex)|"
    r"back when|originally|at first|at the start|in the past|earlier on|no longer)\b",
    re.IGNORECASE,
)
_PAST_ZH = re.compile(r"以前|之前|原来|曾经|当初|一开始|那时|那会|从前|早先|前任|老房子|旧")
_NOW_EN = re.compile(
    r"\b(?:now|currently|current|these days|nowadays|at the moment|right now|rn|at present|"
    r"presently|still|latest)\b",
    re.IGNORECASE,
)
_NOW_ZH = re.compile(r"现在|目前|如今|当前|这阵子|这段时间|最近|还在|仍然|依然|眼下|现任|现居")
_BACK_EN = re.compile(
    r"\b(?:you (?:just )?(?:said|told|suggested|recommended|gave|wrote|mentioned|flagged|"
    r"listed|picked|meant)|did you say|we (?:just )?(?:picked|chose|decided|settled|went|"
    r"discussed|talked|agreed|were talking)|just now|a moment ago|earlier in (?:this|our) "
    r"(?:chat|conversation)|(?:make|change|rewrite|shorten|add to) (?:it|that|this)|"
    r"the one (?:i|we|you)|which one|this one|that one|of the two|of them)\b",
    re.IGNORECASE,
)
_BACK_ZH = re.compile(
    r"刚才|刚刚|你刚|你说|你给|你写|你推荐|你提|上面|前面那|再改|再发|再加|我问的是|"
    r"最后选|最后订|最后定|那两"
)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD = re.compile(r"\w", re.UNICODE)


class QueryCues(msgspec.Struct, frozen=True, kw_only=True):
    """The cues of one query: ``tense`` (-1 past, +1 present, 0 neither), ``refers_back``,
    ``cjk`` (share of its word characters that are CJK)."""

    tense: int = 0
    refers_back: bool = False
    cjk: float = 0.0


def tense(text: str) -> int:
    """-1 when the query asks about the past ("before", "used to", "以前"), else +1 when it
    stresses the present ("now", "these days", "现在"), else 0. A past cue wins ("where did I
    live before I moved to where I live now")."""
    if _PAST_EN.search(text) or _PAST_ZH.search(text):
        return -1
    if _NOW_EN.search(text) or _NOW_ZH.search(text):
        return 1
    return 0


def refers_back(text: str) -> bool:
    """Whether the query points back into the conversation ("what did you say", "刚才")."""
    return bool(_BACK_EN.search(text) or _BACK_ZH.search(text))


def cjk_share(text: str) -> float:
    """The share of the query's word characters that are CJK (0 for a text without any)."""
    words = len(_WORD.findall(text))
    return len(_CJK.findall(text)) / words if words else 0.0


def query_cues(text: str) -> QueryCues:
    """All cues of ``text``."""
    return QueryCues(tense=tense(text), refers_back=refers_back(text), cjk=cjk_share(text))
