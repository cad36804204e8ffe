"""Export a sentence-transformers model to ONNX Runtime: once per model, on first use.

1. The model is loaded with sentence-transformers (torch) and its transformer re-loaded with
   eager attention (the pattern onnxruntime's fusions recognise); a wrapper adds the model's
   own pooling (mean, CLS or max over the attention mask, as its Pooling module says) and L2
   normalisation, and ``torch.onnx.export`` traces it with dynamic batch and sequence axes.
2. onnxruntime's transformer optimizer fuses attention, embedding + LayerNorm, GELU and skip
   LayerNorms.
3. The result is checked against sentence-transformers on probe texts (cosine within
   :data:`TOLERANCE`); a model that does not reproduce is refused, never cached.
4. ``int8``: per-channel dynamic quantisation of that file (per-tensor scales drift too far).

The runtime (:mod:`.onnx_backend`) then needs neither torch nor transformers: the tokenizer is
saved beside the graph as ``tokenizer.json`` and read with ``tokenizers``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ..errors import EncoderError

__all__ = [
    "EXPORT_VERSION",
    "PROBES",
    "TOLERANCE",
    "OnnxMeta",
    "export",
    "quantize_int8",
    "read_meta",
]

EXPORT_VERSION = 1
TOLERANCE = 1e-5
OPSET = 17
PROBES = (
    "The user stayed at a Hilton in Shanghai.",
    "what did I say about my sister's wedding?",
    "我每天早上喝一杯美式咖啡",
    "emoji 🎉 and punctuation: (a), [b]; {c}!",
    "long " * 300,
)


class OnnxMeta(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the runtime needs beside the graph (``meta.json``)."""

    export_version: int
    fingerprint: str
    dim: int
    max_seq_length: int
    do_lower_case: bool
    inputs: list[str]
    pad_id: int
    pad_token: str


def _pooling_mode(st_model: Any) -> str:
    pooling = next(m for m in st_model if type(m).__name__ == "Pooling")
    cfg = pooling.get_config_dict()
    mode = cfg.get("pooling_mode")  # sentence-transformers >= 6
    if isinstance(mode, str):
        return {"mean": "mean", "cls": "cls", "max": "max"}.get(mode, mode)
    for key, name in (("pooling_mode_mean_tokens", "mean"), ("pooling_mode_cls_token", "cls"),
                      ("pooling_mode_max_tokens", "max")):  # fmt: skip
        if cfg.get(key):
            return name
    raise EncoderError(f"unsupported pooling {cfg}")


def _wrapper(hf_model: Any, mode: str, inputs: list[str]) -> Any:
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = hf_model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            feeds = dict(zip(inputs, args, strict=True))
            tokens = self.model(**feeds)[0]
            mask = feeds["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            if mode == "cls":
                pooled = tokens[:, 0]
            elif mode == "max":
                pooled = (tokens + (mask - 1.0) * 1e9).max(dim=1).values
            else:
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return Pooled().eval()


def _torch_export(st_model: Any, source: Path, out: Path) -> tuple[list[str], int, int]:
    import torch
    from transformers import AutoModel

    transformer = st_model[0]
    tokenizer = transformer.tokenizer
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids")
              if n in tokenizer.model_input_names]  # fmt: skip
    hf_model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()
    sample = tokenizer(["a b c", "d e"], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "sequence"} for n in inputs}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about constant shapes
        torch.onnx.export(
            _wrapper(hf_model, _pooling_mode(st_model), inputs),
            tuple(sample[n] for n in inputs),
            str(out),
            input_names=inputs,
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: its graphs are what the fusions expect
        )
    config = hf_model.config
    return inputs, int(config.num_attention_heads), int(config.hidden_size)


def export(source: Path, directory: Path, *, fingerprint: str) -> tuple[OnnxMeta, np.ndarray]:
    """Write ``model.onnx`` (optimised fp32), ``tokenizer.json`` and ``meta.json`` for the
    sentence-transformers model in ``source`` into ``directory``; returns the metadata and
    sentence-transformers' vectors of :data:`PROBES`, which the caller checks the export
    against (with its own tokenisation, the one that will serve)."""
    from .files import write_verified

    try:
        from onnxruntime.transformers.optimizer import optimize_model
        from sentence_transformers import SentenceTransformer

        st_model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
        transformer: Any = st_model[0]  # the Transformer module (typed as any torch Module)
        reference = np.asarray(
            st_model.encode(list(PROBES), normalize_embeddings=True, batch_size=len(PROBES))
        )
        directory.mkdir(parents=True, exist_ok=True)
        raw = directory / ".export-raw.onnx"
        inputs, heads, hidden = _torch_export(st_model, source, raw)

        def optimise(tmp: Path) -> None:
            opt = optimize_model(str(raw), model_type="bert", num_heads=heads, hidden_size=hidden)
            opt.save_model_to_file(str(tmp))

        write_verified(directory / "model.onnx", optimise)
        raw.unlink(missing_ok=True)
        from tokenizers import Tokenizer

        # a copy: the model's own tokenizer keeps its settings
        tokenizer = Tokenizer.from_str(transformer.tokenizer.backend_tokenizer.to_str())
        tokenizer.no_truncation()  # the runtime sets max_seq_length and per-batch padding
        tokenizer.no_padding()
        write_verified(directory / "tokenizer.json", lambda tmp: tokenizer.save(str(tmp)))
        meta = OnnxMeta(
            export_version=EXPORT_VERSION,
            fingerprint=fingerprint,
            dim=int(reference.shape[1]),
            max_seq_length=int(transformer.max_seq_length),
            do_lower_case=bool(getattr(transformer, "do_lower_case", False)),
            inputs=inputs,
            pad_id=int(transformer.tokenizer.pad_token_id or 0),
            pad_token=str(transformer.tokenizer.pad_token or "[PAD]"),
        )
        write_verified(directory / "meta.json",
                       lambda tmp: tmp.write_bytes(msgspec.json.encode(meta)))  # fmt: skip
    except EncoderError:
        raise
    except Exception as exc:  # torch, transformers and onnxruntime raise their own types
        raise EncoderError(
            f"cannot export {source} to ONNX: {exc}. Use the name with '@torch' to run it on "
            "sentence-transformers instead."
        ) from exc
    return meta, reference


def quantize_int8(fp32: Path, out: Path) -> None:
    """Per-channel dynamic int8 quantisation of ``fp32`` into ``out`` (verified write)."""
    from .files import write_verified

    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        def run(tmp: Path) -> None:
            quantize_dynamic(
                str(fp32),
                str(tmp),
                per_channel=True,
                weight_type=QuantType.QInt8,
                # the fused contrib ops defeat shape inference; their outputs are float
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )

        hint = _DropHint()
        logging.getLogger().addFilter(hint)
        try:
            write_verified(out, run)
        finally:
            logging.getLogger().removeFilter(hint)
    except Exception as exc:
        raise EncoderError(f"cannot quantise {fp32} to int8: {exc}") from exc


class _DropHint(logging.Filter):
    """The quantiser logs a "consider pre-processing" hint (for CNNs) on every run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def read_meta(path: Path) -> OnnxMeta:
    """``meta.json`` of an export (raises ``msgspec.DecodeError`` or ``OSError``)."""
    return msgspec.json.decode(path.read_bytes(), type=OnnxMeta)
