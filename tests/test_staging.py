"""Reindex staging filled from outside the engine (what a distributed reindex does): the
reindex uses the staged embeddings and embeds only the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hybridmem import Engine, InvalidRequestError
from hybridmem.encoder import load_encoder
from hybridmem.reindex import embed_batch

from .corpus import SMALL
from .hashenc import HashEncoder


def test_staged_embeddings_are_kept_and_the_rest_embedded(tmp_path: Path, tiny_model: str) -> None:
    with Engine.open(tmp_path / "s", encoder=HashEncoder()) as eng:
        eng.add(SMALL)
        staging = eng.reindex_staging(tiny_model)
        batch = staging.pending(0, 3)
        assert len(batch.docs) == 3 and staging.counts() == (len(SMALL), 0)
        vectors = embed_batch(load_encoder(tiny_model), batch.docs, batch.texts)
        with pytest.raises(InvalidRequestError, match="dimension"):
            staging.put(batch.docs, batch.hashes, np.zeros((3, staging.dim + 1), np.float32))
        assert staging.put(batch.docs, batch.hashes, vectors) == 3
        assert staging.pending(0, 100).docs == staging.pending(batch.docs[-1], 100).docs
        report = eng.reindex(model=tiny_model, batch_size=4)
        assert (report.resumed, report.encoded) == (3, len(SMALL) - 3)
        assert eng.model == staging.target
        with pytest.raises(InvalidRequestError, match="already holds"):
            eng.reindex_staging(tiny_model)
