"""Export / import: an exact round trip (items, embeddings, messages, search answers), one
user's slice, files that must be refused whole; the CLI's export, import, delete and list."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import numpy as np
import pytest

from hybridmem import Engine, InvalidRequestError, Memory, SearchData
from hybridmem.cli import main
from hybridmem.encoder import Encoder

from .corpus import SMALL

NOW = 1_800_000_000_000
QUERIES = [("u1", "pet cat"), ("u1", "where does the user live"), ("u2", "dog"),
           ("u2", "咖啡"), ("u1", "vegetarian food")]  # fmt: skip
CHAT = [
    {"role": "user", "content": "I started learning the cello.", "chat_time": "2025-05-01T09:00Z"},
    {"role": "assistant", "content": "Lovely instrument!"},
]


class CountingEncoder:
    """The session's encoder, counting the documents it embeds (an import with embeddings
    must embed none)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name, self.backend, self.family = inner.name, inner.backend, inner.family
        self.docs = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def encode_query(self, text: str) -> np.ndarray:
        return self.inner.encode_query(text)

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.docs += len(texts)
        return self.inner.encode_docs(texts, on_batch=on_batch)


@pytest.fixture
def source(engine: Engine) -> Engine:
    """SMALL, an archived memory, a replaced memory and chat messages of two users."""
    engine.add([Memory(id="old", user_id="u1", memory_value="The user had a hamster.",
                       status="archived", create_time=500)])  # fmt: skip
    engine.add([msgspec.structs.replace(SMALL[1], memory_value="The user moved to Ningbo.")])
    engine.add_messages(CHAT, user_id="u1", conversation_id="c9")
    engine.add_messages(CHAT[:1], user_id="u2")
    # Tantivy's BM25 statistics count the replaced m2 until its segments merge (a copy holds
    # no replaced doc); a lexical rebuild compacts them, so answers compare to the bit.
    engine.reindex(only="lexical")
    return engine


def answers(eng: Engine) -> list[SearchData]:
    return [eng.search(q, user_id=u, reference_time=NOW, conversation_id="c1") for u, q in QUERIES]


def body(export: bytes) -> list[bytes]:
    """The export's lines but the header (which carries the export time)."""
    return export.splitlines()[1:]


def test_round_trip_with_embeddings_is_exact_and_encodes_nothing(
    source: Engine, tmp_path: Path, encoder: Encoder
) -> None:
    out = io.BytesIO()
    report = source.export(out, embeddings=True)
    assert (report.memories, report.preferences, report.messages) == (8, 2, 3)
    path = tmp_path / "all.jsonl"
    path.write_bytes(out.getvalue())

    counting = CountingEncoder(encoder)
    with Engine.open(tmp_path / "copy", encoder=counting) as copy:  # type: ignore[arg-type]
        imported = copy.import_file(path)
        assert imported.embeddings and counting.docs == 0
        assert answers(copy) == answers(source)  # same hits, same relativity, to the bit
        assert copy.get_messages("u1", "c9") == source.get_messages("u1", "c9")
        assert copy.get("old") == source.get("old") and copy.get("old").status == "archived"
        again = io.BytesIO()
        copy.export(again, embeddings=True)
    assert body(again.getvalue()) == body(out.getvalue())


def test_round_trip_without_embeddings_re_embeds(
    source: Engine, tmp_path: Path, encoder: Encoder
) -> None:
    path = tmp_path / "plain.jsonl"
    with path.open("wb") as f:
        source.export(f)
    assert '"embedding":null' in path.read_text()
    counting = CountingEncoder(encoder)
    with Engine.open(tmp_path / "copy", encoder=counting) as copy:  # type: ignore[arg-type]
        assert not copy.import_file(path).embeddings and counting.docs == 10
        for got, want in zip(answers(copy), answers(source), strict=True):
            assert [m.id for m in got.memory_detail_list] == [m.id for m in want.memory_detail_list]
            for g, w in zip(got.memory_detail_list, want.memory_detail_list, strict=True):
                assert g.relativity == pytest.approx(w.relativity, abs=1e-4)
        assert copy.import_file(path).memories == 8  # a replay changes nothing
        assert copy.stats()["memories"] == 8 and len(copy.get_messages("u1", "c9")) == 2


def test_one_users_export(source: Engine, tmp_path: Path, encoder: Encoder) -> None:
    out = io.BytesIO()
    report = source.export(out, user_id="u2")
    # m4, m5 and the memory of the chat turn; p2; the chat turn
    assert (report.memories, report.preferences, report.messages) == (3, 1, 1)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["user_id"] == "u2"
    assert {line["item"]["user_id"] for line in lines if "item" in line} == {"u2"}
    assert {line["user_id"] for line in lines if line["kind"] == "message"} == {"u2"}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda lines: lines[:-1], "no end line"),
        (lambda lines: lines[:3] + lines[4:], "its end line says"),
        (lambda lines: lines[1:], "no header line first"),
        (lambda lines: [lines[0].replace(b'"version":1', b'"version":9'), *lines[1:]],
         "format version 9"),
        (lambda lines: [*lines[:2], b'{"kind": "memory", "item": {"id": 3}}', *lines[2:]],
         r"all.jsonl:3: Expected `str`"),
        (lambda lines: [*lines[:2], lines[2].replace(b'"embedding":"', b'"embedding":"!'),
                        *lines[3:]], "not base64"),
        (lambda lines: [], "empty file"),
    ],
)  # fmt: skip
def test_a_damaged_file_imports_nothing(
    source: Engine, tmp_path: Path, encoder: Encoder, damage: Callable, message: str
) -> None:
    out = io.BytesIO()
    source.export(out, embeddings=True)
    path = tmp_path / "all.jsonl"
    path.write_bytes(b"\n".join(damage(out.getvalue().splitlines())))
    with Engine.open(tmp_path / "copy", encoder=encoder) as copy:
        with pytest.raises(InvalidRequestError, match=message):
            copy.import_file(path)
        assert copy.stats()["memories"] == 0 and copy.get_messages("u1", "c9") == []


def test_cli_export_import_list_delete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoder: Encoder
) -> None:
    store, copy, dump = tmp_path / "s", tmp_path / "copy", tmp_path / "dump.jsonl"
    with Engine.open(store, encoder=encoder) as eng:
        eng.add(SMALL)
    assert main(["export", str(store), str(dump), "--with-embeddings"]) == 0
    assert not dump.with_name("dump.jsonl.part").exists()
    assert main(["import", str(copy), str(dump)]) == 0
    assert "with its embeddings" in capsys.readouterr().err

    assert main(["list", str(copy), "--user", "u1", "--kind", "memory"]) == 0
    captured = capsys.readouterr()
    rows = captured.out.splitlines()
    assert rows[0].split() == ["id", "kind", "type", "created", "text"]
    assert [r.split()[0] for r in rows[1:]] == ["m3", "m2", "m1"]  # newest first
    assert "3 of 3 memories" in captured.err
    assert main(["list", str(copy), "--user", "u1", "--json", "--limit", "1"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [
        "m3", "p1"
    ]  # fmt: skip

    assert main(["delete", str(copy), "--ids", "m1", "m2"]) == 0
    assert main(["delete", str(copy), "--user", "u2", "--filter", '{"tags": "pet"}']) == 0
    assert main(["delete", str(copy), "--user", "u1"]) == 0
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("deleted 2 items from") and said[1].startswith("deleted 1 items from")
    assert said[2].startswith("deleted 2 items and the user's chat messages")  # m3, p1
    with Engine.open(copy, read_only=True) as eng:
        assert eng.get("m4") is None and eng.get("m5") is not None and eng.page("u1")[1] == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["delete", "STORE"], "say what to delete"),
        (["delete", "STORE", "--ids", "m1", "--user", "u1"], "--ids goes alone"),
        (["delete", "STORE", "--filter", "[1]"], "must be a JSON object"),
        (["delete", "MISSING", "--user", "u1"], "not a hybridmem store"),
        (["export", "MISSING", "OUT"], "not a hybridmem store"),
        (["import", "STORE", "MISSING"], "cannot read"),
        (["list", "STORE", "--user", "u1", "--limit", "-1"], "--limit must be 0"),
    ],
)
def test_cli_usage_errors_exit_2_and_create_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    encoder: Encoder,
    argv: list[str],
    message: str,
) -> None:
    store = tmp_path / "s"
    with Engine.open(store, encoder=encoder) as eng:
        eng.add(SMALL[:1])
    subst = {"STORE": str(store), "MISSING": str(tmp_path / "nope"), "OUT": str(tmp_path / "o")}
    assert main([subst.get(a, a) for a in argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "nope").exists() and not (tmp_path / "o").exists()
