"""`import hybridmem` and `hybridmem --help` stay light: the native libraries load on first use."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "faiss", "tantivy", "sentence_transformers", "onnxruntime", "ray", "mcp")

_REPORT = "import sys; print(' '.join(m for m in {heavy!r} if m in sys.modules))"


def _loaded(code: str) -> list[str]:
    probe = f"{code}\n{_REPORT.format(heavy=HEAVY)}"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return out.split("\n")[-2].split()


@pytest.mark.parametrize(
    "code",
    [
        "import hybridmem",
        "from hybridmem import Engine, EngineConfig, Memory",
        "from hybridmem.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    ],
    ids=["import", "from-import", "help"],
)
def test_light_entry_points_load_no_native_library(code: str) -> None:
    assert _loaded(code) == []


def test_the_native_libraries_load_on_first_use() -> None:
    code = (
        "import numpy as np\nfrom hybridmem import dense, lexical\n"
        "lexical.tantivy.Document()\n"
        "v = np.ones((3, 2), 'float32')\n"
        "assert dense.faiss.knn(v[:1], v, 1)[1].shape == (1, 1)"
    )
    assert _loaded(code) == ["faiss", "tantivy"]
