"""The known warnings of the libraries export calls, kept out of its report: each filter holds only around
the call that warns and matches only that warning, so anything else still shows. Imports torch."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch

QUANTIZATION_ADVICE = "Please consider to run pre-processing before quantization"


@contextmanager
def tracing_warnings() -> Iterator[None]:
    """torch.onnx.export without transformers' and torch's warnings that a trace may not generalise (export
    checks ONNX Runtime against torch on inputs of many lengths instead)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Converting a tensor to a Python boolean", category=torch.jit.TracerWarning
        )
        warnings.filterwarnings("ignore", "Exporting aten::index operator", category=UserWarning)
        yield


class _Advice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(QUANTIZATION_ADVICE)


@contextmanager
def quantization_advice() -> Iterator[None]:
    """onnxruntime's quantize_dynamic without its advice to pre-process the model first (logged on the root
    logger)."""
    root, advice = logging.getLogger(), _Advice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
