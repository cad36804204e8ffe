"""The calibrated ranking core: logistic fit, features, boosts, and their effect in the engine."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridmem import Engine, EngineConfig, InvalidRequestError, Memory
from hybridmem.bench.calibration import Collected
from hybridmem.boosts import conversation_shift, recency_shift
from hybridmem.calibrate import RelevanceParams, fit_logistic, load_params, sigmoid
from hybridmem.encoder import Encoder
from hybridmem.fusion import FEATURES, columns, neighbour_max, relevance_features

DAY = 86_400_000


def test_sigmoid_is_stable_at_the_extremes() -> None:
    out = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_fit_logistic_recovers_known_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 2))
    y = (rng.random(20_000) < sigmoid(1.5 * x[:, 0] - 2.0 * x[:, 1] + 0.5)).astype(float)
    m = fit_logistic(x, y, l2=0.0, features=["a", "b"])
    # weights are per standardised feature; undo the scaling to compare
    w = np.asarray(m.weights) / np.asarray(m.scale)
    assert w == pytest.approx([1.5, -2.0], abs=0.1)
    # maximum likelihood with an intercept: mean prediction equals the base rate
    assert m.predict(x).mean() == pytest.approx(y.mean(), abs=1e-6)


def test_fit_needs_both_classes() -> None:
    with pytest.raises(InvalidRequestError):
        fit_logistic(np.ones((4, 1)), np.zeros(4), features=["a"])


def test_shipped_parameters_load_and_match_the_features() -> None:
    from hybridmem.bench.calibration import MEMORY_FEATURES, PREFERENCE_FEATURES

    params = load_params()
    model = params.memory
    assert tuple(model.features) == MEMORY_FEATURES and model.rows > 10_000
    assert {"locomo", "scifact-train"} <= set(model.fitted_on)
    assert model.out_scale > 0
    # preferences have a model of their own, fitted on preference-labelled queries only
    pref = params.preference
    assert pref is not None and pref.fitted_on == ["demo", "preferences"]
    assert tuple(pref.features) == PREFERENCE_FEATURES
    assert params.for_kind("preference") is pref and params.for_kind("memory") is model
    # the two core relevance signals push the probability up
    weak = relevance_features(np.array([1.0, 5.0]), np.array([0.1, 0.3]), 4)
    strong = relevance_features(np.array([9.0, 5.0]), np.array([0.6, 0.3]), 4)
    for m in (model, pref):
        assert m.predict(columns(strong, m.features))[0] > m.predict(columns(weak, m.features))[0]


def test_bad_parameter_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"version": 1}')
    with pytest.raises(InvalidRequestError, match="invalid relevance parameters"):
        load_params(bad)
    shipped = load_params()
    other = msgspec.structs.replace(shipped.memory, features=["x"])
    bad.write_bytes(msgspec.json.encode(RelevanceParams(memory=other)))
    with pytest.raises(InvalidRequestError, match="Refit them"):
        load_params(bad)
    bad.write_bytes(msgspec.json.encode(RelevanceParams(memory=shipped.memory, preference=other)))
    with pytest.raises(InvalidRequestError, match="Refit them"):
        load_params(bad)
    with pytest.raises(InvalidRequestError, match="cannot read"):
        load_params(tmp_path / "missing.json")
    # a file of one bare model (the earlier format) scores both kinds with it
    bad.write_bytes(msgspec.json.encode(shipped.memory))
    old = load_params(bad)
    assert old.memory == shipped.memory and old.for_kind("preference") == shipped.memory


def test_cjk_query_terms_skip_function_characters() -> None:
    from hybridmem.lexical import cjk_terms

    assert cjk_terms("我问的是去哪里的票？", for_query=True) == ["问", "去", "里", "票"]
    assert cjk_terms("陈伟喝咖啡", for_query=True) == [
        "陈", "伟", "喝", "咖", "啡", "陈伟", "伟喝", "喝咖", "咖啡",
    ]  # fmt: skip
    # documents keep every unigram and bigram
    assert cjk_terms("用的是") == ["用", "的", "是", "用的", "的是"]
    assert cjk_terms("的是了", for_query=True) == []


def test_relevance_features_hand_values() -> None:
    x = relevance_features(np.array([4.0, 0.0, 2.0]), np.array([0.5, 0.7, 0.1]), 3)
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert col["bm25_rel"].tolist() == [1.0, 0.0, 0.5]
    assert col["cosine_gap"] == pytest.approx([-0.2, 0.0, -0.6])
    assert col["log_rank_bm25"] == pytest.approx(np.log1p([0, 2, 1]))
    assert col["log_rank_dense"] == pytest.approx(np.log1p([1, 0, 2]))
    assert col["log_query_terms"] == pytest.approx([np.log(4)] * 3)
    assert col["neighbour_bm25_rel"].tolist() == [0.0, 0.0, 0.0]  # no docs given
    assert col["log_candidates"] == pytest.approx([np.log(3)] * 3)
    assert col["term_coverage"].tolist() == [0.0, 0.0, 0.0]  # no coverage given
    cov = relevance_features(np.array([4.0, 0.0]), np.array([0.5, 0.7]), 3,
                             coverage=np.array([0.75, 0.0]))  # fmt: skip
    assert cov[:, FEATURES.index("term_coverage")].tolist() == [0.75, 0.0]
    assert columns(x, ["cosine", "bm25_rel"]).tolist() == [[0.5, 1.0], [0.7, 0.0], [0.1, 0.5]]


def test_neighbour_features_use_adjacent_docs_of_the_same_conversation() -> None:
    docs = np.array([10, 11, 12, 20])
    got = neighbour_max(np.array([0.1, 0.9, 0.3, 0.8]), docs, ["a", "a", "b", "a"])
    assert got[0] == 0.9  # doc 11 is next to 10, same conversation
    assert np.isnan(got[2])  # doc 11 is in another conversation, 13 is no candidate
    assert got[1] == 0.1 and np.isnan(got[3])
    # the same from integer codes (-1: no conversation), as the retriever passes them
    codes = neighbour_max(np.array([0.1, 0.9, 0.3, 0.8]), docs, np.array([4, 4, 7, 4]))
    assert np.array_equal(codes, got, equal_nan=True)
    none = neighbour_max(np.array([0.1, 0.9, 0.3]), docs[:3], np.array([-1, -1, 7]))
    assert np.isnan(none).all()
    assert np.isnan(neighbour_max(np.array([0.1, 0.9, 0.3]), docs[:3], [None, None, "b"])).all()


@given(
    st.lists(st.floats(0, 50), min_size=1, max_size=30),
    st.floats(-1, 1),
    st.integers(0, 40),
)
def test_model_output_is_a_probability(bm25: list[float], cos: float, terms: int) -> None:
    b = np.array(bm25)
    c = np.clip(np.linspace(cos, -cos, len(b)), -1, 1)
    x = relevance_features(b, c, terms)
    for kind in ("memory", "preference"):
        model = load_params().for_kind(kind)
        p = model.predict(columns(x, model.features))
        assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(p))


@given(st.lists(st.booleans(), max_size=20), st.floats(0, 4))
def test_conversation_shift_is_bounded(same: list[bool], weight: float) -> None:
    out = conversation_shift(np.array(same, dtype=bool), weight)
    assert np.all((out == 0) | (out == weight))


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=1, max_size=20),
    st.floats(0, 4),
    st.floats(1, 365),
)
def test_recency_shift_is_bounded_centred_and_monotone(
    ages: list[int | None], weight: float, half_life: float
) -> None:
    now = 1_000 * DAY
    t = np.array([np.nan if a is None else now - a * DAY for a in ages], dtype=float)
    out = recency_shift(t, now, half_life_days=half_life, weight=weight)
    assert np.all(np.abs(out) <= weight + 1e-12)
    assert np.all(out[np.isnan(t)] == 0)
    known = ~np.isnan(t)
    if known.any():
        assert abs(out[known].mean()) < 1e-9  # reorders without biasing probabilities
        order = np.argsort(-t[known], kind="stable")  # newest first
        assert np.all(np.diff(out[known][order]) <= 1e-12)


# recency queries of data/demo.json -> the older memory the newer one supersedes
SUPERSEDED = {"q06": "t17", "q13": "a01", "q16": "a06", "q21": "a03", "q27": "c11", "q28": "c01"}


def test_recency_boost_moves_newer_memories_up(demo_engine: Engine, demo, tmp_path) -> None:
    """On every recency case of the demo set the boost narrows (or reverses) the gap between
    the newer memory and the older one it supersedes, and decides every case where the base
    model found them about equally relevant."""
    cases = [q for q in demo.queries if q.id in SUPERSEDED]
    assert len(cases) == len(SUPERSEDED)
    for q in cases:
        data = demo_engine.search(q.query, user_id=q.user_id, reference_time=q.now,
                                  memory_limit_number=50, explain=True)  # fmt: skip
        hits = {m.id: m for m in data.memory_detail_list}
        (newer,) = q.relevant
        old = SUPERSEDED[q.id]
        assert newer in hits and old in hits, q.id
        new_e, old_e = hits[newer].explain, hits[old].explain
        assert new_e["recency"] > old_e["recency"], q.id
        base_gap = np.log(old_e["base"] / (1 - old_e["base"])) - np.log(
            new_e["base"] / (1 - new_e["base"])
        )
        if base_gap < new_e["recency"] - old_e["recency"]:  # boost larger than the base gap
            assert hits[newer].relativity > hits[old].relativity, q.id


def test_conversation_cases_of_the_demo(demo_engine: Engine, demo) -> None:
    """Identical questions asked in different conversations get their own conversation's
    memory first (q41/q42 in Chinese: only the query's content characters match, not 的是)."""
    by_id = {q.id: q for q in demo.queries}
    for qid in ("q37", "q38", "q39", "q40", "q41", "q42"):
        q = by_id[qid]
        data = demo_engine.search(q.query, user_id=q.user_id, reference_time=q.now,
                                  conversation_id=q.conversation_id)  # fmt: skip
        assert data.memory_detail_list[0].id == q.relevant[0], qid


def test_conversation_boost_orders_equally_relevant_memories(
    tmp_path: Path, encoder: Encoder
) -> None:
    twins = [
        Memory(
            id=f"m{c}",
            user_id="u",
            conversation_id=c,
            create_time=1_000,
            update_time=1_000,
            memory_value="The user booked a table at an Italian restaurant.",
        )
        for c in ("c1", "c2", "c3")
    ]
    config = EngineConfig(dedupe_cosine=None)
    with Engine.open(tmp_path, encoder=encoder, config=config) as eng:
        eng.add(twins)
        for conv in ("c1", "c2", "c3"):
            data = eng.search("restaurant booking", user_id="u", conversation_id=conv,
                              reference_time=2_000)  # fmt: skip
            assert data.memory_detail_list[0].id == f"m{conv}"
        plain = eng.search("restaurant booking", user_id="u", reference_time=2_000)
        rel = [m.relativity for m in plain.memory_detail_list]
        assert max(rel) - min(rel) < 1e-9  # no boost: a tie


def test_boosts_never_lift_an_irrelevant_memory_over_a_relevant_one(
    tmp_path: Path, encoder: Encoder
) -> None:
    now = 400 * DAY
    items = [
        Memory(id="old-relevant", user_id="u", conversation_id="c0", create_time=0,
               update_time=0, memory_value="The user is allergic to peanuts and tree nuts."),
        Memory(id="new-irrelevant", user_id="u", conversation_id="c9", create_time=now,
               update_time=now, memory_value="The user bought a new blue bicycle helmet."),
    ]  # fmt: skip
    with Engine.open(tmp_path, encoder=encoder) as eng:
        eng.add(items)
        data = eng.search("Does the user have a nut allergy?", user_id="u",
                          conversation_id="c9", reference_time=now)  # fmt: skip
        assert data.memory_detail_list[0].id == "old-relevant"


def test_explain_breaks_down_each_hit(demo_engine: Engine) -> None:
    data = demo_engine.search("Which cities has the user visited?", user_id="memos_user_123",
                              conversation_id="0412", explain=True)  # fmt: skip
    for hit in [*data.memory_detail_list, *data.preference_detail_list]:
        assert set(hit.explain) == {"bm25", "cosine", "base", "conversation", "recency", "final"}
        assert hit.explain["final"] == pytest.approx(hit.relativity)
        assert 0 <= hit.explain["base"] <= 1
        logit = np.log(hit.explain["base"] / (1 - hit.explain["base"]))
        expected = sigmoid(logit + hit.explain["conversation"] + hit.explain["recency"])
        assert float(expected) == pytest.approx(hit.relativity, abs=1e-9)
    plain = msgspec.json.decode(msgspec.json.encode(
        demo_engine.search("cities", user_id="memos_user_123")))  # fmt: skip
    assert "explain" not in plain["memory_detail_list"][0]  # MemOS shape unless asked
    bm25 = demo_engine.search("cities", user_id="memos_user_123", ranking="bm25", explain=True)
    assert set(bm25.memory_detail_list[0].explain) == {"bm25"}


def test_preferences_are_scored_by_the_preference_model(tmp_path: Path, encoder: Encoder) -> None:
    """Wiring: a params file whose preference model is the memory model shifted by +2 in
    log-odds moves preference hits by exactly that, and leaves memory hits alone."""
    from hybridmem import Preference

    shipped = load_params()
    shifted = msgspec.structs.replace(shipped.memory, out_bias=shipped.memory.out_bias + 2.0)
    files = {
        "memory-only": RelevanceParams(memory=shipped.memory),
        "shifted": RelevanceParams(memory=shipped.memory, preference=shifted),
    }
    items = [
        Memory(id="m1", user_id="u", memory_value="The user adopted a greyhound in May."),
        Memory(id="m2", user_id="u", memory_value="The user's car is a blue hatchback."),
        Preference(id="p1", user_id="u", preference="The user prefers dog-friendly hotels."),
        Preference(id="p2", user_id="u", preference="The user dislikes spicy food."),
    ]
    answers = {}
    for name, params in files.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(msgspec.json.encode(params))
        config = EngineConfig(params_path=str(path))
        with Engine.open(tmp_path / name, encoder=encoder, config=config) as eng:
            eng.add(items)
            answers[name] = eng.search("Where can I stay with my dog?", user_id="u",
                                       explain=True)  # fmt: skip

    def logit(p: float) -> float:
        return float(np.log(p / (1 - p)))

    a, b = answers["memory-only"], answers["shifted"]
    assert [h.id for h in a.memory_detail_list] == [h.id for h in b.memory_detail_list]
    for x, y in zip(a.memory_detail_list, b.memory_detail_list, strict=True):
        assert y.relativity == pytest.approx(x.relativity)
    assert [h.id for h in a.preference_detail_list] == [h.id for h in b.preference_detail_list]
    for x, y in zip(a.preference_detail_list, b.preference_detail_list, strict=True):
        assert logit(y.explain["base"]) == pytest.approx(logit(x.explain["base"]) + 2.0)


def test_near_duplicates_are_collapsed(tmp_path: Path, encoder: Encoder) -> None:
    text = "The user's flight to Tokyo departs on March 3rd at 9 am."
    items = [
        Memory(id="a", user_id="u", memory_value=text, create_time=1, update_time=1),
        Memory(id="b", user_id="u", memory_value=text + " ", create_time=1, update_time=1),
        Memory(id="c", user_id="u", memory_value="The user likes green tea.", create_time=1,
               update_time=1),
    ]  # fmt: skip
    with Engine.open(tmp_path / "on", encoder=encoder) as eng:
        eng.add(items)
        ids = [m.id for m in eng.search("flight to Tokyo", user_id="u").memory_detail_list]
        assert len({"a", "b"} & set(ids)) == 1 and "c" in ids
    with Engine.open(tmp_path / "off", encoder=encoder,
                     config=EngineConfig(dedupe_cosine=None)) as eng:  # fmt: skip
        eng.add(items)
        ids = [m.id for m in eng.search("flight to Tokyo", user_id="u").memory_detail_list]
        assert {"a", "b", "c"} == set(ids)


def test_relativity_threshold_means_probability(demo_engine: Engine, demo) -> None:
    """Hits above 0.5 are mostly relevant on the demo set, hits below mostly not."""
    above, below = [], []
    for q in demo.queries:
        data = demo_engine.search(q.query, user_id=q.user_id, reference_time=q.now,
                                  include_preference=False, memory_limit_number=10)  # fmt: skip
        for m in data.memory_detail_list:
            (above if m.relativity >= 0.5 else below).append(m.id in q.relevant)
    assert above and below
    assert np.mean(above) > 0.5 > np.mean(below)


@given(
    st.lists(st.floats(-3, 3), min_size=len(FEATURES), max_size=len(FEATURES)),
    st.integers(0, len(FEATURES) - 1),
    st.floats(0.01, 5),
)
def test_probability_is_monotone_in_each_relevance_feature(
    row: list[float], which: int, bump: float
) -> None:
    """Stronger evidence (or a better rank) never lowers a shipped model's probability."""
    from hybridmem.fusion import MONOTONE

    direction = MONOTONE[which]
    if direction == 0:
        return
    x = np.array([row])
    more = x.copy()
    more[0, which] += direction * bump  # ranks improve downwards
    for kind in ("memory", "preference"):
        model = load_params().for_kind(kind)
        stronger = model.predict(columns(more, model.features))[0]
        assert stronger >= model.predict(columns(x, model.features))[0] - 1e-12


def _synthetic_part(rng: np.random.Generator, name: str, n_queries: int, kind: str = "memory",
                    signal: tuple[int, int] = (1, 3)) -> Collected:  # fmt: skip
    """Queries of 20 candidates whose relevance follows two features (``signal``)."""
    xs, ys, qs = [], [], []
    for q in range(n_queries):
        x = rng.normal(size=(20, len(FEATURES)))
        logit = 2.0 * x[:, signal[0]] + 1.0 * x[:, signal[1]] - 3.0
        xs.append(x)
        ys.append((rng.random(20) < sigmoid(logit)).astype(float))
        qs.append(np.full(20, q))
    x = np.concatenate(xs)
    return Collected(x=x, y=np.concatenate(ys), shift=np.zeros(len(x)),
                     query=np.concatenate(qs), name=name, kind=kind)  # fmt: skip


def test_sign_constrained_fit_and_output_scaling() -> None:
    from hybridmem.bench.calibration import fit_model
    from hybridmem.fusion import MONOTONE

    rng = np.random.default_rng(1)
    parts = [_synthetic_part(rng, "a", 300), _synthetic_part(rng, "b", 50)]
    model = fit_model(parts, hidden=0)
    w = np.asarray(model.weights)
    sign = np.asarray(MONOTONE)
    assert np.all(w[sign > 0] >= 0) and np.all(w[sign < 0] <= 0)
    assert w[1] > 1.0 and w[3] > 0.5  # the true signals are found
    assert model.out_scale > 0 and model.fitted_on == ["a", "b"]
    # the monotone network finds them too, and ranks far better than chance
    net = fit_model(parts, hidden=8)
    x = np.concatenate([p.x for p in parts])
    y = np.concatenate([p.y for p in parts]).astype(bool)
    p = net.predict(x)
    auc = (p[y][:, None] > p[~y][None, :]).mean()
    assert auc > 0.85 and net.out_scale > 0 and not net.weights
    hw = np.asarray(net.hidden_weights)
    assert np.all(hw[sign > 0] >= 0) and np.all(hw[sign < 0] <= 0)
    assert np.all(np.asarray(net.output_weights) >= 0)


def test_refit_fits_a_preference_model_from_preference_queries_only() -> None:
    from hybridmem.bench.calibration import MIN_PREFERENCE_QUERIES, refit

    rng = np.random.default_rng(2)
    memory = _synthetic_part(rng, "facts", 200)
    # preference relevance follows other features (cosine, cosine_gap) than memory relevance
    prefs = _synthetic_part(rng, "prefs", MIN_PREFERENCE_QUERIES, "preference", signal=(2, 3))
    params = refit([memory, prefs], hidden=0)
    assert params.memory.fitted_on == ["facts"] and params.preference is not None
    assert params.preference.fitted_on == ["prefs"] and params.preference.rows == len(prefs.y)
    w_mem = dict(zip(params.memory.features, params.memory.weights, strict=True))
    w_pref = dict(zip(params.preference.features, params.preference.weights, strict=True))
    assert w_mem["bm25_rel"] > 1.0 and w_pref["cosine"] > 1.0 and "bm25_rel" not in w_pref
    # too few preference queries: the memory model scores preferences too
    few = _synthetic_part(rng, "prefs", MIN_PREFERENCE_QUERIES - 1, "preference")
    params = refit([memory, few], hidden=0)
    assert params.preference is None and params.for_kind("preference") is params.memory
    with pytest.raises(InvalidRequestError, match="no memory-labelled"):
        refit([prefs], hidden=0)


def test_average_networks_averages_the_logits() -> None:
    from hybridmem.calibrate import average_networks, fit_monotone_mlp
    from hybridmem.fusion import MONOTONE

    rng = np.random.default_rng(4)
    part = _synthetic_part(rng, "a", 40)
    kw = {"signs": MONOTONE, "features": list(FEATURES), "hidden": 3, "iterations": 50}
    nets = [fit_monotone_mlp(part.x, part.y, seed=s, **kw) for s in range(3)]  # type: ignore[arg-type]
    avg = average_networks(nets)
    assert len(avg.hidden_bias) == 9 and min(avg.output_weights) >= 0
    expected = np.mean([n.logit(part.x) for n in nets], axis=0)
    assert avg.logit(part.x) == pytest.approx(expected, abs=1e-9)
    assert average_networks(nets[:1]) == nets[0]
    linear = fit_logistic(part.x, part.y, features=list(FEATURES))
    with pytest.raises(InvalidRequestError, match="only networks"):
        average_networks([nets[0], linear])
    shifted = msgspec.structs.replace(nets[1], mean=[m + 1 for m in nets[1].mean])
    with pytest.raises(InvalidRequestError, match="share features"):
        average_networks([nets[0], shifted])


def _listwise_loss(logit: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Brute force: mean over queries with a relevant row of -mean log softmax at relevant."""
    losses = []
    for g in np.unique(groups):
        rows = groups == g
        if y[rows].sum() == 0:
            continue
        log_p = logit[rows] - np.log(np.exp(logit[rows]).sum())
        losses.append(-log_p[y[rows] > 0].mean())
    return float(np.mean(losses))


def test_listwise_gradient_matches_finite_differences() -> None:
    from hybridmem.calibrate import _listwise

    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1, 2, 3], [5, 1, 7, 4])
    y = (rng.random(len(groups)) < 0.3).astype(float)
    y[groups == 2] = 0.0  # a query without a relevant row contributes nothing
    y[[0, 5]] = 1.0
    logit = rng.normal(size=len(groups)) * 3
    grad = _listwise(groups, y, len(y))(logit)
    eps = 1e-6
    numeric = np.array([
        (_listwise_loss(logit + eps * e, y, groups) - _listwise_loss(logit - eps * e, y, groups))
        / (2 * eps)
        for e in np.eye(len(logit))
    ])  # fmt: skip
    np.testing.assert_allclose(grad, numeric, atol=1e-6)
    assert np.all(grad[groups == 2] == 0)
    with pytest.raises(ValueError, match="contiguous"):
        _listwise(np.array([0, 1, 0]), np.array([1.0, 0.0, 0.0]), 3)
    with pytest.raises(ValueError, match="group id per row"):
        _listwise(None, y, len(y))


def test_listwise_term_improves_the_order_within_queries() -> None:
    """Per-query offsets of a feature hide its within-query signal from a pointwise fit; the
    listwise term sees only within-query differences and recovers it (the mean reciprocal
    rank of the relevant row goes up)."""
    from hybridmem.calibrate import fit_monotone_mlp
    from hybridmem.fusion import MONOTONE

    rng = np.random.default_rng(5)
    n_q, per = 200, 15
    x = rng.normal(size=(n_q * per, len(FEATURES)))
    groups = np.repeat(np.arange(n_q), per)
    # within a query, feature 2 (cosine) decides which row is relevant, but each query shifts
    # it by a large offset; feature 0 says how likely the query is to have a relevant row
    y = np.zeros(len(x))
    for q in range(n_q):
        rows = np.flatnonzero(groups == q)
        x[rows, 0] = rng.normal() * 3
        x[rows, 2] += rng.normal() * 5
        if rng.random() < sigmoid(x[rows[0], 0]):
            y[rows[np.argmax(x[rows, 2] + rng.normal(size=per) * 0.5)]] = 1.0

    def mrr(model) -> float:
        s = model.logit(x)
        out = []
        for q in range(n_q):
            rows = np.flatnonzero(groups == q)
            if y[rows].any():
                rank = (s[rows] > s[rows][y[rows] > 0][0]).sum()
                out.append(1.0 / (1 + rank))
        return float(np.mean(out))

    kw = {"signs": MONOTONE, "features": list(FEATURES), "hidden": 4, "iterations": 300}
    plain = fit_monotone_mlp(x, y, **kw)
    ranked = fit_monotone_mlp(x, y, groups=groups, listwise=1.0, **kw)
    assert ranked.listwise == 1.0 and plain.listwise == 0.0
    plain_mrr, ranked_mrr = mrr(plain), mrr(ranked)
    assert ranked_mrr > plain_mrr + 0.05, (plain_mrr, ranked_mrr)
