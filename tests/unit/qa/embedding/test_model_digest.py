"""The ONNX export is keyed by the content of the model's files: two installs of the same weights (copied at
different times, to different places) share one export; other weights get their own. Hashing the weights is
remembered under their names, sizes and times, so a question's start does not read them again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa.embedding import onnx_format
from qa.embedding.onnx_format import source_fingerprint


def fake_model(folder: Path, weights: bytes = b"\x01" * 4096) -> Path:
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (folder / "config.json").write_text('{"hidden_size": 384}')
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "onnx").mkdir()  # other exports shipped with a model are not what an export is made from
    (folder / "onnx" / "model_O4.onnx").write_bytes(os.urandom(64))
    return folder


def test_two_installs_of_the_same_weights_have_one_digest(tmp_path: Path) -> None:
    a = fake_model(tmp_path / "venv-a" / "model")
    b = tmp_path / "pipx" / "model"
    shutil.copytree(a, b, copy_function=shutil.copy)  # new times, new inodes
    (b / "onnx" / "model_O4.onnx").write_bytes(os.urandom(64))
    os.utime(b / "model.safetensors", ns=(1, 1))
    assert source_fingerprint(str(a)) == source_fingerprint(str(b))
    other = fake_model(tmp_path / "other", weights=b"\x01" * 4095 + b"\x02")
    assert source_fingerprint(str(other)) != source_fingerprint(str(a))


def test_the_digest_is_remembered_until_the_files_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, memo = fake_model(tmp_path / "model"), tmp_path / "cache" / "onnx" / ".model-digests.json"
    memo.parent.mkdir(parents=True)
    hashed: list[Path] = []
    real = onnx_format._content_hash
    monkeypatch.setattr(onnx_format, "_content_hash", lambda root, files: hashed.append(root) or real(root, files))
    first = source_fingerprint(str(model), memo=memo)
    assert source_fingerprint(str(model), memo=memo) == first and len(hashed) == 1
    (model / "model.safetensors").write_bytes(b"\x03" * 4096)  # new weights: read again
    assert source_fingerprint(str(model), memo=memo) != first and len(hashed) == 2
    memo.write_text("{not json")  # a damaged memo costs a hash, nothing else
    assert source_fingerprint(str(model), memo=memo) == source_fingerprint(str(model))
