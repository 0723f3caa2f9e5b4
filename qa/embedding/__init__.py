"""Embedding: texts to vectors with the sentence-transformers model, on torch or through its ONNX export."""

from qa.embedding.base import Embedder, backend_of, check_backend, vector_kind
from qa.embedding.factory import ensure_export, export_dir, fallback_note, make_embedder
from qa.embedding.onnx_embedder import OnnxEmbedder
from qa.embedding.onnx_export import export_onnx
from qa.embedding.onnx_format import META_FILE, export_is_current
from qa.embedding.sentence_transformer import (
    SentenceTransformerEmbedder,
    load_sentence_transformer,
    resolve_model_path,
)

__all__ = ["META_FILE", "Embedder", "OnnxEmbedder", "SentenceTransformerEmbedder", "backend_of", "check_backend",
           "ensure_export", "export_dir", "export_is_current", "export_onnx", "fallback_note", "load_sentence_transformer",
           "make_embedder", "resolve_model_path", "vector_kind"]
