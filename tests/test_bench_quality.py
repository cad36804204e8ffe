"""``hybridmem bench quality`` end to end on the demo set (real engine and model)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.bench.quality import EngineSystem, Hits, evaluate
from hybridmem.cli import main
from hybridmem.evalset import EvalQuery

from .conftest import DATA, DEMO

KEYS = {"hit@1", "recall@1", "recall@5", "recall@10", "ndcg@10", "mrr", "ece", "brier",
        "p50_ms", "p95_ms", "queries", "per_kind", "stale_queries", "stale_first", "lists",
        "offtopic"}  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bench cache for the module: the demo store is built once."""
    return tmp_path_factory.mktemp("bench-cache")


def test_cli_writes_results_table_and_plots(tmp_path: Path, cache: Path, capsys, demo) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.json"
    argv = ["bench", "quality", str(DEMO), "--ranking", "bm25,hybrid",
            "--cache", str(cache), "--output", str(out),
            "--plot", str(tmp_path / "plots"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "| bm25 |" in table and "| hybrid |" in table
    report = json.loads(out.read_text())
    n = len(demo.queries)
    assert report["dataset"] == "demo" and report["queries"] == n
    assert report["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    for name in ("bm25", "hybrid"):
        s = report["systems"][name]
        assert set(s) == KEYS
        assert 0 <= s["recall@1"] <= s["recall@5"] <= s["recall@10"] <= 1
        assert 0 <= s["ece"] <= 1 and 0 <= s["brier"] <= 1 and s["p50_ms"] <= s["p95_ms"]
        assert {"recency", "conversation", "chinese", "demo"} <= set(s["per_kind"])
        assert sum(k["queries"] for k in s["per_kind"].values()) == n
    assert (tmp_path / "plots" / "demo-reliability.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "demo-latency.png").stat().st_size > 1000
    # a second run reuses the cached store
    stores = sorted(cache.iterdir())
    assert len(stores) == 1
    assert main([*argv[:5], "--cache", str(cache), "--quiet"]) == 0
    assert sorted(cache.iterdir()) == stores


def test_cached_stores_are_built_aside(tmp_path: Path, demo) -> None:
    """A store is built beside its final place and renamed in: a run that finds a half-built
    store of an older hybridmem replaces it, and never touches another run's build."""
    import msgspec

    from hybridmem.bench.quality import open_cached_store

    small = msgspec.structs.replace(demo, memories=demo.memories[:5], preferences=[])
    kw = {"cache_dir": tmp_path, "model": None, "progress": False}
    with open_cached_store(small, DEMO, "evalset", **kw) as eng:
        built = eng.directory
    assert [p.name for p in tmp_path.iterdir()] == [built.name]
    shutil.rmtree(built)
    built.mkdir()  # interrupted in place, no BUILT marker
    (built / "junk").write_text("x")
    other = tmp_path / f".{built.name}.building-1"  # another run, still building
    other.mkdir()
    with open_cached_store(small, DEMO, "evalset", **kw) as eng:
        assert eng.stats()["activated"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([built.name, other.name])
    assert not (built / "junk").exists() and (built / "BUILT").exists()


def test_calibrate_cli_refits_both_models(tmp_path: Path, cache: Path, encoder, capsys) -> None:
    """`hybridmem calibrate` on the demo (memory queries) and the preference set writes a
    parameter file with both models, which an engine then scores with."""
    from hybridmem import Engine, EngineConfig, Memory, Preference
    from hybridmem.calibrate import load_params

    out = tmp_path / "params.json"
    argv = ["calibrate", str(DEMO), str(DATA / "preferences.json"),
            "--output", str(out), "--cache", str(cache), "--hidden", "4", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "preference model on demo, preferences" in capsys.readouterr().err
    params = load_params(out)
    assert params.memory.fitted_on == ["demo"] and len(params.memory.hidden_bias) == 4
    assert params.preference is not None and params.preference.weights  # logistic
    config = EngineConfig(params_path=str(out))
    with Engine.open(tmp_path / "store", encoder=encoder, config=config) as eng:
        eng.add([
            Preference(id="p1", user_id="u", preference="I don't eat meat."),
            Memory(id="m1", user_id="u", memory_value="The user lives in Leeds."),
        ])  # fmt: skip
        data = eng.search("Suggest a dinner recipe", user_id="u")
        assert [h.id for h in data.preference_detail_list] == ["p1"]
        assert 0 < data.preference_detail_list[0].relativity < 1
    # the demo alone has too few preference queries: preferences use the memory model
    assert main([*argv[:2], *argv[3:]]) == 0
    assert "fewer than 50 preference-labelled" in capsys.readouterr().err
    assert load_params(out).preference is None
    # no memory-labelled query at all is a clear error, not a traceback
    assert main(["calibrate", str(DATA / "preferences.json"), "--output", str(out),
                 "--cache", str(cache), "--quiet"]) == 2  # fmt: skip
    assert "no memory-labelled query" in capsys.readouterr().err


def test_cli_rejects_unknown_ranking_and_peer(tmp_path: Path, capsys) -> None:
    base = ["bench", "quality", str(DEMO), "--cache", str(tmp_path), "--quiet"]
    assert main([*base, "--ranking", "bm25,magic"]) == 2
    assert "unknown ranking 'magic'" in capsys.readouterr().err
    assert main([*base, "--peer", "elastic"]) == 2
    assert "unknown peer 'elastic'" in capsys.readouterr().err


class Scripted:
    """A system returning fixed rankings, to check the evaluation arithmetic."""

    name = "scripted"

    def __init__(self, ranked: dict[str, list[tuple[str, float]]]) -> None:
        self.ranked = ranked

    def search(self, query: EvalQuery, limit: int, *, preferences: bool, warm: bool) -> Hits:
        hits = self.ranked[query.id][:limit]
        return Hits([h for h, _ in hits], [p for _, p in hits])


def test_evaluate_arithmetic() -> None:
    queries = [
        EvalQuery(id="q1", user_id="u", query="x", relevant=["a"], kind="k1"),
        EvalQuery(id="q2", user_id="u", query="y", relevant_preferences=["p"], kind="k2"),
    ]
    system = Scripted({"q1": [("b", 0.9), ("a", 0.8)], "q2": [("p", 1.0)]})
    scores, samples = evaluate(system, queries)
    assert scores.hit_1 == pytest.approx(0.5)
    assert scores.queries == 2
    assert scores.recall_1 == pytest.approx(0.5)  # q1 misses at 1, q2 hits
    assert scores.recall_5 == 1.0
    assert scores.mrr == pytest.approx((0.5 + 1.0) / 2)
    assert samples.labels == [False, True, True]
    assert scores.brier == pytest.approx((0.81 + 0.04 + 0.0) / 3)
    assert set(scores.per_kind) == {"k1", "k2"} and scores.per_kind["k2"].ndcg_10 == 1.0


class TwoLists:
    """A scripted system with a memory and a preference answer per query."""

    name = "two-lists"

    def __init__(self, memories: dict, preferences: dict) -> None:
        self.lists = {False: memories, True: preferences}

    def search(self, query: EvalQuery, limit: int, *, preferences: bool, warm: bool) -> Hits:
        hits = self.lists[preferences].get(query.id, [])[:limit]
        return Hits([h for h, _ in hits], [p for _, p in hits])


def test_evaluate_thresholds_stale_and_offtopic() -> None:
    """Both answer lists of every query count for the threshold figures, off-topic queries
    (nothing labelled) included; a stale answer above every current one is counted."""
    queries = [
        EvalQuery(id="cur", user_id="u", query="x", relevant=["new"], stale=["old"],
                  kind="current"),
        EvalQuery(id="pref", user_id="u", query="y", relevant=["m"], relevant_preferences=["p"],
                  kind="preference"),
        EvalQuery(id="off", user_id="u", query="z", kind="offtopic"),
    ]  # fmt: skip
    memories = {"cur": [("old", 0.6), ("new", 0.4)], "pref": [("m", 0.7), ("x", 0.2)],
                "off": [("x", 0.35)]}  # fmt: skip
    preferences = {"cur": [("q", 0.1)], "pref": [("p", 0.55)], "off": [("q", 0.6)]}
    scores, _ = evaluate(TwoLists(memories, preferences), queries, kinds=("memory", "preference"))
    assert scores.queries == 2 and scores.hit_1 == pytest.approx(0.5)
    assert scores.stale_queries == 1 and scores.stale_first == 1.0
    mem, pref = scores.lists["memory"], scores.lists["preference"]
    assert mem.queries == pref.queries == 3 and mem.relevant == 2 and pref.relevant == 1
    at = {k.threshold: k for k in mem.kept}
    assert at[0.3].kept == 4 and at[0.3].precision == pytest.approx(2 / 4)
    assert at[0.3].recall == 1.0
    assert at[0.5].kept == 2 and at[0.5].precision == 0.5 and at[0.5].recall == 0.5
    assert at[0.8].kept == 0 and at[0.8].precision is None and at[0.8].recall == 0.0
    assert mem.returned == 2
    patp = {k.threshold: k for k in pref.kept}
    assert patp[0.5].kept == 2 and patp[0.5].precision == 0.5
    assert scores.offtopic is not None and scores.offtopic.queries == 1
    assert scores.offtopic.surface == {"memory": {"0.3": 1.0, "0.5": 0.0},
                                       "preference": {"0.3": 1.0, "0.5": 1.0}}  # fmt: skip


def test_engine_system_searches_preferences(demo_engine) -> None:
    system = EngineSystem(demo_engine, "bm25")
    q = EvalQuery(id="q", user_id="alice", query="vegetarian food", relevant_preferences=["ap1"])
    hits = system.search(q, 3, preferences=True, warm=False)
    assert hits.ids[0] == "ap1" and len(hits.ids) <= 3


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """txtai encodes with torch; one thread per query is steady on a busy machine, where two
    threads per matrix product contend with every other process."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_txtai_peer_on_demo(cache: Path, demo, one_torch_thread: None) -> None:
    pytest.importorskip("txtai")
    from hybridmem.bench.quality import run

    report, _ = run(str(DEMO), rankings=["bm25"], peers=["txtai"],
                    cache_dir=cache)  # fmt: skip
    peer = report.systems["txtai-hybrid"]
    assert peer.queries == len(demo.queries) and 0.5 < peer.recall_10 <= 1.0


def test_bench_tables_rewrite_the_readme_blocks(tmp_path: Path, capsys) -> None:
    """`hybridmem bench tables` replaces the marked README blocks, and only those."""
    import msgspec

    from hybridmem.bench.quality import QualityReport

    queries = [
        EvalQuery(id="q1", user_id="u", query="x", relevant=["a"], kind="lexical"),
        EvalQuery(id="q2", user_id="u", query="y", kind="offtopic"),
    ]
    scores, _ = evaluate(Scripted({"q1": [("a", 0.9)], "q2": [("b", 0.4)]}), queries)
    report = QualityReport(dataset="toy", split=None, queries=1, model="m",
                           systems={"hybrid": scores})  # fmt: skip
    results = tmp_path / "toy.json"
    results.write_bytes(msgspec.json.encode(report))
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- quality:toy -->\nSTALE\n<!-- /quality:toy -->\nmiddle\n"
        "<!-- quality:toy-thresholds -->\nSTALE\n<!-- /quality:toy-thresholds -->\n"
        "<!-- quality:other -->\nkeep me\n<!-- /quality:other -->\n"
    )
    assert main(["bench", "tables", f"toy={results}", "--readme", str(readme)]) == 0
    assert "rewrote 2 tables (toy, toy-thresholds)" in capsys.readouterr().out
    text = readme.read_text()
    assert "| hybrid | 1.000 |" in text and "STALE" not in text and "keep me" in text
    assert "| 0.3 | 2 | 0.50 | 1.00 |" in text
    assert "surface rate: top memory ≥ 0.3: 1.00, top memory ≥ 0.5: 0.00" in text
    assert main(["bench", "tables", "toy", "--readme", str(readme)]) == 2
