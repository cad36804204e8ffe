"""Calibrated base relevance over features of :data:`hybridmem.fusion.FEATURES`.

Two model forms, both fitted by maximum likelihood on labelled candidates:

* a logistic regression ``P = sigmoid(w · z + b)`` (IRLS with an L2 penalty and optional sign
  constraints; Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", §4.4.1);
* a one-hidden-layer monotone network ``P = sigmoid(v · tanh(W z + c) + b)`` with ``v >= 0`` and
  sign-constrained columns of ``W`` (Sill, "Monotonic Networks", 1997), the shipped default.

``z`` is the standardised feature vector. The network's loss adds to the pointwise log-loss a
listwise term per query, the cross-entropy between the softmax of the query's candidate logits
and the uniform distribution over its relevant candidates (ListNet's top-one loss: Cao et al.,
"Learning to Rank: From Pairwise Approach to Listwise Approach", ICML 2007): the log-loss anchors
the probabilities, the listwise term the order within a query, which is what a search returns.
The ranking term sharpens the order but shifts the probabilities; a final Platt scaling
(``out_scale``, ``out_bias``) fitted on the top-10 hits of the fit queries aligns them again with
how often the hits a search actually returns are relevant. That is what makes ``relativity`` a
probability.

Memories and preferences are scored by models of their own (:class:`RelevanceParams`): a
preference is usually matched by a request that shares no word with it ("suggest a dinner" /
"I don't eat meat"), where BM25 evidence that helps memory search misleads. The preference
model is fitted on preference-labelled queries only; a parameter file without one scores
preferences with the memory model.

The parameters ship as a versioned JSON file (``hybridmem/params/relevance.json``);
``hybridmem calibrate`` refits them from any labelled eval set, and
``EngineConfig.params_path`` points an engine at another file.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from .errors import InvalidRequestError

__all__ = [
    "PARAMS_VERSION",
    "RelevanceModel",
    "RelevanceParams",
    "average_networks",
    "fit_logistic",
    "fit_monotone_mlp",
    "load_params",
    "shipped_params_file",
    "sigmoid",
]

PARAMS_VERSION = 1


class RelevanceModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A fitted relevance model; ``mean``/``scale`` standardise each feature first.

    Linear (``weights``): ``logit = w · z + bias``. With a hidden layer (``hidden_weights``,
    ``hidden_bias``, ``output_weights``): ``logit = v · tanh(W z + c) + bias`` -- a monotone
    network: ``v >= 0`` and each constrained feature's column of ``W`` has its sign, so the
    probability never falls as the evidence grows, while the weighting may depend on the
    query (e.g. trust BM25 less when its best score is weak).

    ``features`` names the inputs, in order: columns of
    :func:`hybridmem.fusion.relevance_features` (pick them with :func:`hybridmem.fusion.columns`).
    """

    version: int
    features: list[str]
    mean: list[float]
    scale: list[float]
    bias: float
    weights: list[float] = msgspec.field(default_factory=list)
    hidden_weights: list[list[float]] = msgspec.field(default_factory=list)
    hidden_bias: list[float] = msgspec.field(default_factory=list)
    output_weights: list[float] = msgspec.field(default_factory=list)
    # Output scaling: relativity = sigmoid(out_scale * (logit + boosts) + out_bias), fitted on
    # the top-10 hits of the fit queries (Platt, 1999), where the returned hits' probabilities
    # are measured; monotone (out_scale > 0), so it never changes the order.
    out_scale: float = 1.0
    out_bias: float = 0.0
    l2: float = 1.0
    listwise: float = 0.0
    fitted_on: list[str] = msgspec.field(default_factory=list)
    rows: int = 0

    def logit(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        if self.hidden_weights:
            h = np.tanh(z @ np.asarray(self.hidden_weights) + np.asarray(self.hidden_bias))
            return h @ np.asarray(self.output_weights) + self.bias
        return z @ np.asarray(self.weights) + self.bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logit(x))


class RelevanceParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parameter file: the memory model and, if fitted, the preference model."""

    memory: RelevanceModel
    preference: RelevanceModel | None = None

    def for_kind(self, kind: str) -> RelevanceModel:
        """The model that scores items of ``kind`` (``"memory"`` or ``"preference"``)."""
        if kind == "preference" and self.preference is not None:
            return self.preference
        return self.memory


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _prepare(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check the labels and standardise ``x`` with weighted means and deviations."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n == 0 or not (0 < y.sum() < n):
        raise InvalidRequestError("fitting needs both relevant and irrelevant candidates")
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean = np.average(x, axis=0, weights=sw)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=sw))
    scale[scale < 1e-9] = 1.0
    return (x - mean) / scale, y, sw, mean, scale


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1.0,
    features: list[str],
    signs: Sequence[int] | None = None,
    iterations: int = 200,
    tol: float = 1e-8,
) -> RelevanceModel:
    """Maximum-likelihood logistic regression (IRLS / Newton) with an L2 penalty on the weights.

    The penalty ``l2 / 2 · |w|²`` is on the standardised weights (not the bias). ``signs``
    constrains each weight (+1: >= 0, -1: <= 0, 0: free), which makes the probability monotone
    in every constrained feature; it is solved with an active set (a weight that would cross
    zero is held at zero, and released when the gradient pulls it back into its allowed side).
    """
    z, y, sw, mean, scale = _prepare(x, y, sample_weight)
    n, d = z.shape
    sign = np.zeros(d) if signs is None else np.asarray(signs, dtype=np.float64)
    if sign.shape != (d,):
        raise ValueError("signs must have one entry per feature")
    z = np.column_stack([z, np.ones(n)])
    sign = np.append(sign, 0.0)  # the bias is free
    beta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    held = np.zeros(d + 1, dtype=bool)
    for _ in range(iterations):
        p = sigmoid(z @ beta)
        grad = z.T @ (sw * (y - p)) - penalty * beta
        # release a held weight whose gradient points into its allowed side
        held &= ~(sign * grad > 0)
        free = ~held
        w = sw * p * (1 - p)
        zf = z[:, free]
        hess = (zf * w[:, None]).T @ zf + np.diag(penalty[free]) + 1e-9 * np.eye(free.sum())
        step = np.zeros(d + 1)
        step[free] = np.linalg.solve(hess, grad[free])
        new = beta + step
        crossing = (sign * new < 0) & free
        if crossing.any():  # hold those at zero and take the step without them
            new[crossing] = 0.0
            held |= crossing
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    return RelevanceModel(
        version=PARAMS_VERSION,
        features=list(features),
        mean=mean.tolist(),
        scale=scale.tolist(),
        weights=beta[:-1].tolist(),
        bias=float(beta[-1]),
        l2=l2,
        rows=n,
    )


def fit_monotone_mlp(
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    signs: Sequence[int],
    features: list[str],
    hidden: int = 16,
    iterations: int = 800,
    learning_rate: float = 0.01,
    l2: float = 1e-4,
    seed: int = 0,
    groups: np.ndarray | None = None,
    listwise: float = 0.0,
) -> RelevanceModel:
    """A one-hidden-layer monotone network (tanh units) fitted by full-batch Adam, with
    projected steps that keep the sign constraints (Sill, "Monotonic Networks", NIPS 1997;
    Kingma & Ba, "Adam", ICLR 2015). Deterministic for a given ``seed``.

    The loss is the weighted mean log-loss plus ``listwise`` times the mean, over the queries
    with a relevant candidate, of ``-mean_{i relevant} log softmax(logits of the query)_i``.
    ``groups`` gives each row's query; a query's rows must be contiguous.
    """
    z, y, sw, mean, scale = _prepare(x, y, sample_weight)
    listwise_grad = _listwise(groups, y, len(y)) if listwise > 0 else None
    n, d = z.shape
    sign = np.asarray(signs, dtype=np.float64)[:, None]
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0.0, 0.3, (d, hidden))
    w1 = np.where(sign != 0, np.abs(w1) * np.where(sign == 0, 1.0, sign), w1)
    b1 = np.zeros(hidden)
    w2 = np.abs(rng.normal(0.0, 0.3, hidden))
    b2 = np.array([np.log(np.average(y, weights=sw) / (1 - np.average(y, weights=sw)))])
    params = [w1, b1, w2, b2]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for step in range(1, iterations + 1):
        h = np.tanh(z @ w1 + b1)
        logit = h @ w2 + b2[0]
        g = sw * (sigmoid(logit) - y) / n  # d loss / d logit
        if listwise_grad is not None:
            g = g + listwise * listwise_grad(logit)
        gh = np.outer(g, w2) * (1.0 - h * h)
        grads = [z.T @ gh + l2 * w1, gh.sum(0), h.T @ g + l2 * w2, np.array([g.sum()])]
        for i, (p, gr) in enumerate(zip(params, grads, strict=True)):
            m1[i] = 0.9 * m1[i] + 0.1 * gr
            m2[i] = 0.999 * m2[i] + 0.001 * gr * gr
            p -= (
                learning_rate
                * (m1[i] / (1 - 0.9**step))
                / (np.sqrt(m2[i] / (1 - 0.999**step)) + 1e-8)
            )
        # projection onto the monotone set
        w1[:] = np.where(sign > 0, np.maximum(w1, 0.0), np.where(sign < 0, np.minimum(w1, 0.0), w1))
        w2[:] = np.maximum(w2, 0.0)
    return RelevanceModel(
        version=PARAMS_VERSION,
        features=list(features),
        mean=mean.tolist(),
        scale=scale.tolist(),
        bias=float(b2[0]),
        hidden_weights=w1.tolist(),
        hidden_bias=b1.tolist(),
        output_weights=w2.tolist(),
        l2=l2,
        listwise=listwise,
        rows=n,
    )


def average_networks(models: Sequence[RelevanceModel]) -> RelevanceModel:
    """One network whose logit is the mean of the networks' logits: their hidden units side by
    side, the output weights divided by their number, the biases averaged. The networks must
    share features and standardisation (fits of the same data from different random starts).
    The average keeps the sign constraints, so it is monotone too; it keeps their expected
    quality and lowers the variance that the random start adds (the bagging argument: Breiman,
    "Bagging Predictors", Machine Learning 24, 1996)."""
    first = models[0]
    if not all(m.hidden_weights for m in models):
        raise InvalidRequestError("only networks (with a hidden layer) can be averaged")
    key = (first.features, first.mean, first.scale)
    if any((m.features, m.mean, m.scale) != key for m in models):
        raise InvalidRequestError("networks to average must share features and standardisation")
    k = len(models)
    return msgspec.structs.replace(
        first,
        hidden_weights=np.hstack([np.asarray(m.hidden_weights) for m in models]).tolist(),
        hidden_bias=[b for m in models for b in m.hidden_bias],
        output_weights=[w / k for m in models for w in m.output_weights],
        bias=float(np.mean([m.bias for m in models])),
    )


def _listwise(groups: np.ndarray | None, y: np.ndarray, n: int) -> Any:
    """The gradient (w.r.t. the logits) of the mean per-query softmax cross-entropy."""
    if groups is None or len(groups) != n:
        raise ValueError("a listwise loss needs one group id per row")
    g = np.asarray(groups)
    new = np.r_[True, g[1:] != g[:-1]]
    starts = np.flatnonzero(new)
    gid = np.cumsum(new) - 1
    relevant = np.add.reduceat(y, starts)
    if len(np.unique(g)) != len(starts):
        raise ValueError("each group's rows must be contiguous")
    active = (relevant > 0)[gid]
    target = np.where(active, y / np.maximum(relevant[gid], 1.0), 0.0)
    queries = max(1, int((relevant > 0).sum()))

    def grad(logit: np.ndarray) -> np.ndarray:
        e = np.exp(logit - np.maximum.reduceat(logit, starts)[gid])
        p = e / np.add.reduceat(e, starts)[gid]
        return np.where(active, p - target, 0.0) / queries

    return grad


def shipped_params_file(family: str | None = None) -> str:
    """The shipped parameter file for a model family: ``params/relevance-<family>.json`` when
    hybridmem ships one (fitted on that family's scores), else ``params/relevance.json``."""
    params = resources.files("hybridmem").joinpath("params")
    if family and params.joinpath(f"relevance-{family}.json").is_file():
        return f"relevance-{family}.json"
    return "relevance.json"


def load_params(path: str | Path | None = None, *, family: str | None = None) -> RelevanceParams:
    """The parameters in ``path``, or else the ones shipped for the model ``family`` (see
    :func:`shipped_params_file`); checked against the feature list.

    A file holding one bare :class:`RelevanceModel` (as ``hybridmem calibrate`` wrote before
    preferences had a model of their own) scores both kinds with it."""
    try:
        if path is None:
            name = shipped_params_file(family)
            raw = resources.files("hybridmem").joinpath("params", name).read_bytes()
        else:
            raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read relevance parameters {path}: {exc}") from exc
    try:
        params = msgspec.json.decode(raw, type=RelevanceParams)
    except msgspec.DecodeError as exc:
        try:
            params = RelevanceParams(memory=msgspec.json.decode(raw, type=RelevanceModel))
        except msgspec.DecodeError:
            raise InvalidRequestError(f"invalid relevance parameters {path}: {exc}") from exc
    for model in (params.memory, params.preference):
        if model is not None:
            _check(model, path)
    return params


def _check(model: RelevanceModel, path: str | Path | None) -> None:
    from .fusion import FEATURES

    if (
        model.version != PARAMS_VERSION
        or not set(model.features) <= set(FEATURES)
        or len(set(model.features)) != len(model.features)
    ):
        raise InvalidRequestError(
            f"relevance parameters {path or '(shipped)'} are for features {model.features} "
            f"(version {model.version}); this hybridmem computes {list(FEATURES)} (version "
            f"{PARAMS_VERSION}). Refit them with `hybridmem calibrate`."
        )
    n = len(model.features)
    hidden = len(model.hidden_bias)
    linear_ok = len(model.weights) == n and not model.hidden_weights
    network_ok = (
        not model.weights
        and hidden > 0
        and len(model.hidden_weights) == n
        and all(len(row) == hidden for row in model.hidden_weights)
        and len(model.output_weights) == hidden
    )
    if not (len(model.mean) == len(model.scale) == n and (linear_ok or network_ok)):
        raise InvalidRequestError("relevance parameters have the wrong number of values")
