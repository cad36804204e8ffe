"""Turn public retrieval datasets into eval sets (:class:`~hybridmem.evalset.EvalSet`).

The datasets are read from where they lie (their licenses are non-commercial: never copy them
into a package). A dataset is named by a spec string:

* ``locomo:PATH`` -- LoCoMo (``locomo10.json``): one user per conversation, one memory per dialog
  turn (``"speaker: text"``, plus the shared image's caption), QA of categories 1-4 as queries
  with their cleaned evidence turns as labels. Splits: conversations 1-5 (file order) ``fit``,
  6-10 ``report``.
* ``locomo-observations:PATH`` -- the same conversations, but the memories are the LLM-written
  ``observation`` facts; a fact is relevant when it points to an evidence turn.
* ``scifact:DIR[:train|test]`` -- SciFact in BEIR format, one user; ``train`` is ``fit``,
  ``test`` is ``report``.
* ``prefeval:DIR`` -- PrefEval explicit preferences, one user per topic, each question's relevant
  preference is the item's own. Report only (nothing of it is used for fitting).
* any other value: the path of an eval-set JSON file (e.g. ``hybridmem/data/demo.json``); no splits.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from ..errors import InvalidRequestError
from ..evalset import EvalQuery, EvalSet, load_evalset
from ..types import Memory, Preference

__all__ = ["SPLITS", "Split", "clean_evidence", "load_dataset", "parse_spec"]

Split: TypeAlias = Literal["fit", "report"]
SPLITS = ("fit", "report")

LOCOMO_KINDS = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_LOCOMO_FIT = 5  # conversations 1-5 in file order
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_DAY_MS = 86_400_000


def parse_spec(spec: str) -> tuple[str, Path, str | None]:
    """``"scifact:DIR:test"`` -> ``("scifact", Path(DIR), "test")``; a bare path -> evalset."""
    for loader in ("locomo-observations", "locomo", "scifact", "prefeval"):
        prefix = loader + ":"
        if spec.startswith(prefix):
            rest = spec[len(prefix) :]
            option = None
            if loader == "scifact" and rest.rsplit(":", 1)[-1] in ("train", "test"):
                rest, option = rest.rsplit(":", 1)
            return loader, Path(rest), option
    return "evalset", Path(spec), None


def load_dataset(spec: str, split: Split | None = None) -> EvalSet:
    """Load the dataset named by ``spec``; ``split`` keeps only that split's queries."""
    if split is not None and split not in SPLITS:
        raise InvalidRequestError(f"split must be one of {SPLITS}, got {split!r}")
    loader, path, option = parse_spec(spec)
    if not path.exists():
        raise InvalidRequestError(f"{spec}: {path} does not exist")
    if loader == "locomo":
        return _locomo(path, split, observations=False)
    if loader == "locomo-observations":
        return _locomo(path, split, observations=True)
    if loader == "scifact":
        return _scifact(path, split, option)
    if loader == "prefeval":
        if split == "fit":
            raise InvalidRequestError("prefeval is report-only: it has no fit split")
        return _prefeval(path)
    return load_evalset(path)


# -- LoCoMo ---------------------------------------------------------------------------------------


def clean_evidence(raw: list[Any]) -> list[str]:
    """Normalise LoCoMo evidence ids (the dataset README lists the malformed ones).

    Splits ids packed with ``;`` or spaces, reads ``D:11:26`` as ``D11:26`` and ``D30:05`` as
    ``D30:5``, and drops a bare ``D``. Ids that name no turn are dropped by the caller.
    """
    out: list[str] = []
    for entry in raw:
        for session, turn in _EVIDENCE.findall(str(entry)):
            ident = f"D{int(session)}:{int(turn)}"
            if ident not in out:
                out.append(ident)
    return out


def _session_time(text: str) -> int:
    """``"1:56 pm on 8 May, 2023"`` -> epoch ms (UTC)."""
    when = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _sessions(conv: dict[str, Any]) -> list[int]:
    # conv-26 has more *_date_time keys than sessions: iterate over the session lists
    return sorted(
        int(k.split("_")[1])
        for k, v in conv.items()
        if re.fullmatch(r"session_\d+", k) and isinstance(v, list)
    )


def _locomo(path: Path, split: Split | None, *, observations: bool) -> EvalSet:
    samples = json.loads(path.read_text(encoding="utf-8"))
    memories: list[Memory] = []
    queries: list[EvalQuery] = []
    for index, sample in enumerate(samples):
        user = sample["sample_id"]
        conv = sample["conversation"]
        sessions = _sessions(conv)
        times = {n: _session_time(conv[f"session_{n}_date_time"]) for n in sessions}
        turn_ids = {t["dia_id"] for n in sessions for t in conv[f"session_{n}"]}
        # which memories each evidence turn makes relevant
        by_turn: dict[str, list[str]] = {}
        for n in sessions:
            base = times[n]
            if observations:
                facts = sample.get("observation", {}).get(f"session_{n}_observation", {})
                j = 0
                for speaker, items in facts.items():
                    for fact, source in items:
                        mid = f"{user}:obs{n}:{j}"
                        j += 1
                        memories.append(_memory(mid, user, n, base + j * 1000, fact, speaker))
                        sources = source if isinstance(source, list) else [source]
                        for turn in clean_evidence(sources):
                            by_turn.setdefault(turn, []).append(mid)
            else:
                for j, turn in enumerate(conv[f"session_{n}"]):
                    text = f"{turn['speaker']}: {turn['text']}"
                    if turn.get("blip_caption"):
                        text += f" [shares an image: {turn['blip_caption']}]"
                    mid = f"{user}:{turn['dia_id']}"
                    memories.append(_memory(mid, user, n, base + j * 1000, text, ""))
                    by_turn[turn["dia_id"]] = [mid]
        if split is not None and (split == "fit") != (index < _LOCOMO_FIT):
            continue
        now = max(times.values()) + _DAY_MS
        for qi, qa in enumerate(sample["qa"]):
            kind = LOCOMO_KINDS.get(qa.get("category"))
            if kind is None:  # category 5: adversarial, unanswerable
                continue
            turns = [t for t in clean_evidence(qa.get("evidence", [])) if t in turn_ids]
            relevant = list(dict.fromkeys(m for t in turns for m in by_turn.get(t, [])))
            if relevant:
                queries.append(
                    EvalQuery(
                        id=f"{user}:q{qi}",
                        user_id=user,
                        query=str(qa["question"]),
                        now=now,
                        relevant=relevant,
                        kind=kind,
                    )
                )
    name = "locomo-observations" if observations else "locomo"
    return EvalSet(name=name, memories=memories, queries=queries)


def _memory(mid: str, user: str, session: int, when: int, text: str, key: str) -> Memory:
    return Memory(
        id=mid,
        user_id=user,
        conversation_id=f"session_{session}",
        memory_key=key,
        memory_value=text,
        create_time=when,
        update_time=when,
    )


# -- SciFact (BEIR) -------------------------------------------------------------------------------


def _scifact(directory: Path, split: Split | None, option: str | None) -> EvalSet:
    wanted = {"fit": "train", "report": "test"}.get(split or "")
    if option and wanted and option != wanted:
        raise InvalidRequestError(f"scifact:{option} contradicts --split {split}")
    which = option or wanted or "test"
    user = "scifact"
    memories = []
    with open(directory / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            memories.append(
                Memory(
                    id=str(doc["_id"]),
                    user_id=user,
                    memory_key=doc.get("title") or "",
                    memory_value=doc.get("text") or doc.get("title") or "-",
                    create_time=0,
                    update_time=0,
                )
            )
    texts: dict[str, str] = {}
    with open(directory / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            texts[str(q["_id"])] = q["text"]
    relevant: dict[str, list[str]] = {}
    with open(directory / "qrels" / f"{which}.tsv", encoding="utf-8") as fh:
        next(fh)  # header
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                relevant.setdefault(qid, []).append(did)
    queries = [
        EvalQuery(id=qid, user_id=user, query=texts[qid], relevant=docs, kind="claim")
        for qid, docs in relevant.items()
    ]
    return EvalSet(name=f"scifact-{which}", memories=memories, queries=queries)


# -- PrefEval -------------------------------------------------------------------------------------


def _prefeval(directory: Path) -> EvalSet:
    folder = directory / "explicit_preference"
    if not folder.is_dir():
        raise InvalidRequestError(f"{directory} has no explicit_preference/ folder")
    preferences: list[Preference] = []
    queries: list[EvalQuery] = []
    for topic_file in sorted(folder.glob("*.json")):
        topic = topic_file.stem
        for i, item in enumerate(json.loads(topic_file.read_text(encoding="utf-8"))):
            pid = f"{topic}:{i}"
            preferences.append(
                Preference(
                    id=pid,
                    user_id=topic,
                    preference=item["preference"],
                    create_time=0,
                    update_time=0,
                )
            )
            queries.append(
                EvalQuery(
                    id=f"{pid}:q",
                    user_id=topic,
                    query=item["question"],
                    relevant_preferences=[pid],
                    kind=topic,
                )
            )
    return EvalSet(name="prefeval", preferences=preferences, queries=queries)
