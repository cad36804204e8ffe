"""The LangChain retriever and the LangGraph store, with the real langchain-core, langgraph and
LangChain's standard retriever tests (langchain-tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests
from typing_extensions import TypedDict

from hybridmem import Engine, ForbiddenError, InvalidRequestError, Memory
from hybridmem.integrations.langchain import HybridMemRetriever, HybridMemStore
from hybridmem.integrations.langgraph_store import item_id

from .hashenc import HashEncoder

QUERY = "Which cities has the user visited?"


class TestStandardRetriever(RetrieversIntegrationTests):
    """LangChain's own conformance suite for retrievers, on the demo store."""

    pytestmark = pytest.mark.anyio

    @pytest.fixture(autouse=True)
    def _engine(self, demo_engine: Engine) -> None:
        self.engine = demo_engine

    @property
    def retriever_constructor(self) -> type[HybridMemRetriever]:
        return HybridMemRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"engine": self.engine, "user_id": "memos_user_123"}

    @property
    def retriever_query_example(self) -> str:
        return QUERY

    @property
    def num_results_arg_name(self) -> str:
        return "limit"


def test_documents_carry_relativity_id_and_kind(demo_engine: Engine) -> None:
    retriever = HybridMemRetriever(engine=demo_engine, user_id="memos_user_123", limit=8)
    docs = retriever.invoke("hotel brand preferences for my trip")
    data = demo_engine.search(
        "hotel brand preferences for my trip", user_id="memos_user_123",
        memory_limit_number=8, preference_limit_number=8,
    )  # fmt: skip
    by_id = {h.id: h for h in [*data.memory_detail_list, *data.preference_detail_list]}
    assert len(docs) == 8
    relativities = [d.metadata["relativity"] for d in docs]
    assert relativities == sorted(relativities, reverse=True)
    assert {d.metadata["kind"] for d in docs} == {"memory", "preference"}
    for doc in docs:
        hit = by_id[doc.metadata["id"]]
        # the same ranking; recency moves with the clock between the two searches
        assert doc.id == hit.id
        assert doc.metadata["relativity"] == pytest.approx(hit.relativity, abs=1e-6)
        text = hit.memory_value if doc.metadata["kind"] == "memory" else hit.preference
        assert doc.page_content == text


def test_options_and_per_call_overrides(demo_engine: Engine) -> None:
    retriever = HybridMemRetriever(
        engine=demo_engine, user_id="alice", include_preference=False, relativity=0.5
    )
    docs = retriever.invoke(QUERY)
    assert all(d.metadata["kind"] == "memory" and d.metadata["relativity"] >= 0.5 for d in docs)
    theirs = retriever.invoke(QUERY, user_id="chen_wei", relativity=0.0, limit=4)
    owned = {m.id for m in demo_engine.page("chen_wei", limit=100)[0]}
    assert len(theirs) == 4 and {d.id for d in theirs} <= owned
    tagged = retriever.invoke(QUERY, filter={"tags": "travel"}, relativity=0.0)
    assert tagged and all("travel" in d.metadata["tags"] for d in tagged)
    with pytest.raises(InvalidRequestError, match="unknown retriever option"):
        retriever.invoke(QUERY, k=3)
    with pytest.raises(InvalidRequestError):
        retriever.invoke(QUERY, user_id="")


# -- the LangGraph store --------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HybridMemStore]:
    with Engine.open(tmp_path / "lg", encoder=HashEncoder()) as eng:  # type: ignore[arg-type]
        yield HybridMemStore(eng)


def test_put_get_update_delete(store: HybridMemStore) -> None:
    ns = ("u1", "memories")
    store.put(ns, "k1", {"content": "The user lives in Hangzhou."})
    store.put(ns, "k2", {"content": "Owns a cat", "topic": "pets", "n": 3})
    first = store.get(ns, "k1")
    assert first is not None and first.value == {"content": "The user lives in Hangzhou."}
    assert first.key == "k1" and first.namespace == ns
    assert store.get(ns, "k2").value == {"content": "Owns a cat", "topic": "pets", "n": 3}
    assert store.get(("u2", "memories"), "k1") is None  # another user's namespace
    store.put(ns, "k1", {"content": "The user moved to Shanghai."})
    again = store.get(ns, "k1")
    assert again.value == {"content": "The user moved to Shanghai."}
    assert again.created_at == first.created_at and again.updated_at >= first.updated_at
    store.delete(ns, "k1")
    assert store.get(ns, "k1") is None and store.get(ns, "k2") is not None
    # a text that looks like JSON round-trips as text
    store.put(ns, "k3", {"content": '{"not": "a value"}'})
    assert store.get(ns, "k3").value == {"content": '{"not": "a value"}'}


def test_search_is_per_user_ranked_and_filtered(store: HybridMemStore) -> None:
    store.put(("u1", "memories"), "a", {"content": "The user has a cat named Miso."})
    store.put(("u1", "memories"), "b", {"content": "The user drinks green tea.", "kind": "food"})
    store.put(("u1", "work"), "c", {"content": "The user works on a cat food startup."})
    store.put(("u2", "memories"), "d", {"content": "The user has a cat named Rex."})
    hits = store.search(("u1",), query="cat named Miso")
    assert hits[0].key == "a" and hits[0].score is not None and 0 <= hits[0].score <= 1
    assert {h.key for h in hits} == {"a", "b", "c"}  # nothing of u2's
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.key for h in store.search(("u1", "memories"), query="cat")} == {"a", "b"}
    assert [h.key for h in store.search(("u1",), query="cat", filter={"kind": "food"})] == ["b"]
    assert store.search(("u1",), filter={"kind": {"$ne": "food"}}, limit=10)
    listed = store.search(("u1", "memories"), limit=1, offset=1)
    assert len(listed) == 1 and listed[0].score is None
    assert store.search(("u1", "mem")) == []  # a prefix is whole labels, not characters
    with pytest.raises(InvalidRequestError, match="user id"):
        store.search(())  # no user: never a search over everyone
    with pytest.raises(InvalidRequestError, match="operator"):
        store.search(("u1",), filter={"kind": {"$regex": "f.*"}})


def test_list_namespaces_and_batch(store: HybridMemStore) -> None:
    from langgraph.store.base import GetOp, PutOp, SearchOp

    for ns in [("u1", "a"), ("u1", "a", "x"), ("u1", "b"), ("u2", "a")]:
        store.put(ns, "k", {"content": f"memory in {'/'.join(ns)}"})
    assert store.list_namespaces(prefix=("u1",)) == [("u1", "a"), ("u1", "a", "x"), ("u1", "b")]
    assert store.list_namespaces(prefix=("u1",), max_depth=2) == [("u1", "a"), ("u1", "b")]
    assert store.list_namespaces(prefix=("u1",), suffix=("x",)) == [("u1", "a", "x")]
    with pytest.raises(InvalidRequestError, match="prefix condition"):
        store.list_namespaces(suffix=("a",))
    # reads see the store as it was before the batch; the last write of a key wins
    out = store.batch([
        PutOp(("u1", "a"), "k", {"content": "first"}),
        GetOp(("u1", "a"), "k"),
        PutOp(("u1", "a"), "k", {"content": "second"}),
        PutOp(("u1", "b"), "k", None),
        SearchOp(("u1", "b")),
    ])  # fmt: skip
    assert out[1].value == {"content": "memory in u1/a"} and len(out[4]) == 1
    assert store.get(("u1", "a"), "k").value == {"content": "second"}
    assert store.get(("u1", "b"), "k") is None


def test_foreign_owner_and_bad_values(store: HybridMemStore) -> None:
    # an lg: id that another API gave to another user is neither read nor deleted
    store.engine.add([Memory(id=item_id(("u1", "m"), "x"), user_id="u9", memory_value="hi")])
    assert store.get(("u1", "m"), "x") is None
    with pytest.raises(ForbiddenError):
        store.delete(("u1", "m"), "x")
    with pytest.raises(InvalidRequestError, match="JSON"):
        store.put(("u1", "m"), "y", {"when": object()})
    with pytest.raises(InvalidRequestError, match="user_label"):
        HybridMemStore(store.engine, user_label=-1)


@pytest.mark.anyio
async def test_async_api_and_user_label(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "lg", encoder=HashEncoder()) as eng:  # type: ignore[arg-type]
        store = HybridMemStore(eng, user_label=1)  # langmem's ("memories", user_id)
        await store.aput(("memories", "u1"), "k", {"content": "The user plays chess."})
        item = await store.aget(("memories", "u1"), "k")
        assert item is not None and item.value == {"content": "The user plays chess."}
        assert eng.get(item_id(("memories", "u1"), "k")).user_id == "u1"
        hits = await store.asearch(("memories", "u1"), query="chess")
        assert [h.key for h in hits] == ["k"]
        await store.adelete(("memories", "u1"), "k")
        assert await store.aget(("memories", "u1"), "k") is None


class State(TypedDict):
    user: str
    message: str
    recalled: list[str]


def test_a_langgraph_graph_uses_the_store(store: HybridMemStore) -> None:
    from langgraph.graph import END, START, StateGraph
    from langgraph.store.base import BaseStore

    def remember(state: State, *, store: BaseStore) -> dict[str, Any]:
        store.put((state["user"], "memories"), "m1", {"content": state["message"]})
        return {}

    def recall(state: State, *, store: BaseStore) -> dict[str, Any]:
        hits = store.search((state["user"],), query="what pet does the user have", limit=3)
        return {"recalled": [h.value["content"] for h in hits]}

    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    graph = builder.compile(store=store)
    out = graph.invoke({"user": "u7", "message": "The user has a pet parrot.", "recalled": []})
    assert out["recalled"] == ["The user has a pet parrot."]
    assert graph.invoke({"user": "u8", "message": "x", "recalled": []})["recalled"] == ["x"]
