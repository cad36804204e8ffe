"""The cluster config file and the `hybridmem cluster` commands that need no Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmem import InvalidRequestError
from hybridmem.cli import main
from hybridmem.cluster import read_manifest
from hybridmem.cluster.config import ClusterConfig, load_cluster_config, make_encoder


def test_relative_paths_are_taken_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        'root = "data/cluster"\nkeys_file = "keys.toml"\nport = 9001\n'
        "[engine]\ncandidate_k = 20\n[encoder]\nmax_batch_size = 4\n"
    )
    config = load_cluster_config(tmp_path / "c.toml")
    assert config.root == str(tmp_path / "data/cluster")
    assert config.keys_file == str(tmp_path / "keys.toml")
    assert (config.port, config.engine.candidate_k, config.encoder.max_batch_size) == (9001, 20, 4)


def test_a_typo_in_the_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('root = "x"\n[encoder]\nmax_batch = 4\n')
    with pytest.raises(InvalidRequestError, match="max_batch"):
        load_cluster_config(tmp_path / "c.toml")


def test_encoder_factory_is_imported_or_refused() -> None:
    encoder = make_encoder(ClusterConfig(root="x", encoder_factory="tests.hashenc:HashEncoder"))
    assert encoder.name == "test-hash-32"
    with pytest.raises(InvalidRequestError, match="cannot be imported"):
        make_encoder(ClusterConfig(root="x", encoder_factory="tests.hashenc:Nope"))


def test_cluster_init_and_a_serve_without_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["cluster", "init", str(tmp_path / "c"), "--shards", "3"]) == 0
    assert len(read_manifest(tmp_path / "c").current.shards) == 3
    assert main(["cluster", "init", str(tmp_path / "c"), "--shards", "3"]) == 2
    monkeypatch.delenv("HYBRIDMEM_API_KEY", raising=False)
    (tmp_path / "c.json").write_text('{"root": "c"}')
    assert main(["cluster", "serve", str(tmp_path / "c.json")]) == 2
    assert "no API key configured" in capsys.readouterr().err


def test_the_readme_cluster_config_decodes(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("```toml\n# cluster.toml", 1)[1].split("```", 1)[0]
    (tmp_path / "cluster.toml").write_text("#" + block)
    config = load_cluster_config(tmp_path / "cluster.toml")
    assert (config.root, config.encoder.replicas, config.engine.model) == (
        "/data/mem",
        2,
        "all-MiniLM-L6-v2",
    )
