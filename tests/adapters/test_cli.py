"""The `qa` command line: the --json contract, piped questions as JSON Lines, plain output, ingest reports,
and one-line errors with a non-zero exit code for every mistake a user can make."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters import main as cli
from adapters.cli import commands
from adapters.common.exits import EXIT_SKIPPED
from qa.bot import Bot
from qa.index import local as store
from tests.support.paths import ROOT
from tests.support.tiny_embedder import TinyEmbedder

PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"
WORLD_CUP = "Who won the 2022 FIFA World Cup?"
PLEDGE_FILE = ROOT / "seeds" / "002_55bcac6e1997eb79.txt"
CITATION_TYPES = {
    "n": int, "source": str, "title": (str, type(None)), "date": (str, type(None)), "line_start": int,
    "line_end": int, "text": str, "score": float, "also_in": list, "page": (int, type(None)),
    "url": (str, type(None)), "stale": bool,
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str) -> str:
    assert code != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    return lines[0]


def check_contract(obj: dict, question: str) -> None:
    assert set(obj) == {"question", "answer", "abstained", "citations", "quotes", "answer_spans"}
    assert obj["question"] == question
    # each quote is word for word in the citation it names, and its answer span lies inside it
    assert len(obj["answer_spans"]) == len(obj["quotes"]) and (obj["quotes"] == []) is obj["abstained"]
    for quote, span in zip(obj["quotes"], obj["answer_spans"], strict=True):
        assert quote["text"] in obj["citations"][quote["n"] - 1]["text"]
        assert span == quote["answer_span"]
        assert span is None or 0 <= span[0] < span[1] <= len(quote["text"])
    assert isinstance(obj["abstained"], bool)
    assert isinstance(obj["answer"], str) or (obj["answer"] is None and obj["abstained"])
    for c in obj["citations"]:
        assert set(c) == set(CITATION_TYPES)
        for key, types in CITATION_TYPES.items():
            assert isinstance(c[key], types), (key, c[key])
        assert c["date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["date"])
        assert 1 <= c["line_start"] <= c["line_end"]
        assert all(isinstance(s, str) for s in c["also_in"])
    assert [c["n"] for c in obj["citations"]] == list(range(1, len(obj["citations"]) + 1))


def check_pledge(obj: dict) -> None:
    check_contract(obj, PLEDGE)
    assert obj["abstained"] is False
    assert "[1]" in obj["answer"] and "38.5 billion" in obj["answer"]
    first = obj["citations"][0]
    assert first["source"].endswith("002_55bcac6e1997eb79.txt")
    assert first["line_start"] == 8
    line_8 = PLEDGE_FILE.read_text(encoding="utf-8").splitlines()[7]
    assert first["text"] in line_8
    assert first["title"] is None and first["date"] is None  # 002_ has neither


def check_world_cup(obj: dict) -> None:
    check_contract(obj, WORLD_CUP)
    assert obj["answer"] is None and obj["abstained"] is True and obj["citations"] == []


@pytest.fixture
def index_arg(seeds_index: Path) -> list[str]:
    return ["--index", str(seeds_index)]


def test_ask_json(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["ask", PLEDGE, "--json", *index_arg], capsys)
    assert code == 0 and err == ""
    (line,) = out.splitlines()
    check_pledge(json.loads(line))


def test_ask_json_abstains_on_the_world_cup(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", WORLD_CUP, "--json", *index_arg], capsys)
    assert code == 0
    check_world_cup(json.loads(out))


def test_dated_citation_in_json(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "Who did Ruto call in January 2025?", "--json", "--k", "2", *index_arg], capsys)
    obj = json.loads(out)
    assert code == 0 and len(obj["citations"]) == 2
    assert obj["citations"][0]["date"] == "2025-01-28"  # 003_ is dated; 004_ is not


def test_piped_questions_give_json_lines(index_arg: list[str], capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PLEDGE}\n\n   \n{WORLD_CUP}\nWhich French president did Ruto speak with?\n"))
    code, out, err = run(["ask", "--json", *index_arg], capsys)
    assert code == 0 and err == ""
    objs = [json.loads(line) for line in out.splitlines()]
    assert len(objs) == 3
    check_pledge(objs[0])
    check_world_cup(objs[1])
    check_contract(objs[2], "Which French president did Ruto speak with?")
    assert "Macron" in objs[2]["answer"]


def test_plain_output_when_piped(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", PLEDGE, "--k", "2", *index_arg], capsys)
    lines = out.splitlines()
    assert code == 0
    assert "38.5 billion" in lines[0] and lines[0].endswith("[1]")
    assert lines[1] == "[1] seeds/002_55bcac6e1997eb79.txt:8"
    assert lines[2].startswith("    The Biden administration") and "38.5 billion" in lines[2]  # the passage, indented
    assert lines[3].startswith("[2] seeds/") and lines[4].startswith("    ") and len(lines) == 5
    assert "\x1b[" not in out


def test_piped_answers_are_separated_and_no_question_fails_before_the_model(
        index_arg: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PLEDGE}\n\n{WORLD_CUP}\n"))
    code, out, _ = run(["ask", *index_arg], capsys)
    assert code == 0
    first, second = out.rstrip("\n").split("\n\n")  # one blank line between the two answers
    assert first.startswith("The Biden administration") and second == "The articles do not answer this question."
    monkeypatch.setattr("sys.stdin", io.StringIO("\n  \n"))
    monkeypatch.setattr("adapters.cli.commands.load_bot", lambda *a: pytest.fail("the model was loaded"))
    code, out, err = run(["ask", *index_arg], capsys)
    assert code != 0 and out == "" and err.startswith("error: no question given")


def test_plain_abstention(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", WORLD_CUP, *index_arg], capsys)
    assert code == 0 and out.strip() == "The articles do not answer this question."


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_k_and_mode_flags(index_arg: list[str], capsys: pytest.CaptureFixture[str], mode: str) -> None:
    code, out, _ = run(["ask", "Who did Ruto call in January 2025?", "--json", "--k", "4", "--mode", mode, *index_arg],
                       capsys)
    obj = json.loads(out)
    assert code == 0 and len(obj["citations"]) == 4
    assert "Rubio" in obj["answer"]


@pytest.fixture
def tiny_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qa ingest` with the tiny embedder: the command's behaviour does not depend on the model."""
    monkeypatch.setattr(commands, "Bot", lambda settings: Bot(settings, embedder=TinyEmbedder()))


def test_ingest_reports_and_is_incremental(seeds_copy: Path, tmp_path: Path, tiny_bot: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "idx")
    code, out, err = run(["ingest", str(seeds_copy), "--index", index], capsys)
    assert code == 0 and err.strip() == ""
    assert len(re.findall(r"^\s*added ", out, re.M)) == 5
    assert "5 added, 0 updated, 0 removed, 0 unchanged" in out
    (seeds_copy / "001_3f7c58d4eaf15709.txt").unlink()
    code, out, _ = run(["ingest", str(seeds_copy), "--index", index], capsys)
    assert code == 0
    assert len(re.findall(r"^\s*removed ", out, re.M)) == 1
    assert "0 added, 0 updated, 1 removed, 4 unchanged" in out
    code, out, _ = run(["ingest", str(seeds_copy), "--index", index], capsys)
    assert code == 0 and out.strip().startswith("0 added, 0 updated, 0 removed, 4 unchanged")


def test_ingest_report_names_each_file_on_one_line(seeds_copy: Path, tmp_path: Path, tiny_bot: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    deep = seeds_copy / ("a-rather-long-folder-name-for-the-articles-of-november-and-january" + "/x" * 5)
    deep.mkdir(parents=True)
    article = deep / "005_ruto_rubio_call.txt"
    article.write_text("Ruto spoke with Rubio about the STIP agreement and the Haiti mission.\n", encoding="utf-8")
    code, out, _ = run(["ingest", str(seeds_copy), "--index", str(tmp_path / "idx")], capsys)
    assert code == 0
    assert any(line.strip() == f"added {article}" for line in out.splitlines()), out


def test_a_binary_file_is_skipped_with_a_warning_and_the_others_are_indexed(
        seeds_copy: Path, tmp_path: Path, tiny_bot: None, capsys: pytest.CaptureFixture[str]) -> None:
    (seeds_copy / "photo.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" * 50)
    index = tmp_path / "idx"
    code, out, err = run(["ingest", str(seeds_copy), "--index", str(index)], capsys)
    assert code == EXIT_SKIPPED
    (line,) = err.strip().splitlines()
    assert line == f"warning: skipped {seeds_copy / 'photo.txt'}: binary file, not text"
    assert "5 added" in out and "1 skipped" in out
    assert len(store.open_index(index).documents()) == 5


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


ERRORS = {
    "empty question": (["ask", ""], "question is empty"),
    "blank question": (["ask", "   "], "question is empty"),
    "missing path": (["ingest", "{tmp}/no/such/folder"], "no such file or folder"),
    "only a binary file": (["ingest", "{tmp}/bad.txt"], "binary file"),
    "empty folder": (["ingest", "{tmp}/empty"], "no .txt, .md, .html, .pdf, .docx, .rss or .atom files"),
    "unsupported file type": (["ingest", "{tmp}/slides.pptx"], "not a supported format (.pptx)"),
    "missing index": (["ask", "Who did Ruto call?", "--index", "{tmp}/no-index"], "no index at"),
    "k is zero": (["ask", "Who did Ruto call?", "--k", "0"], "k must be between 1 and 50"),
    "k too large": (["ask", "Who did Ruto call?", "--k", "51"], "k must be between 1 and 50"),
    "other model": (["ask", "Who did Ruto call?", "--model", "paraphrase-MiniLM-L3-v2"], "rebuild it with `qa ingest --rebuild"),
    "missing reader model": (["ask", "Who did Ruto call?", "--reader-model", "{tmp}/no-reader"], "reader model"),
    "serve on a port that cannot be": (["serve", "--port", "99999"], "--port must be between 0 and 65535"),
    "watch a file": (["watch", "{tmp}/bad.txt"], "not a folder"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_user_errors_are_one_line(case: str, tmp_path: Path, seeds_index: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "bad.txt", b"Ruto \x00 Paris \xff\xfe")
    _write(tmp_path, "slides.pptx", b"%PDF-1.4")
    (tmp_path / "empty").mkdir()
    argv, message = ERRORS[case]
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "--index" not in argv:
        argv += ["--index", str(seeds_index) if argv[0] == "ask" else str(tmp_path / "idx")]
    code, _, err = run(argv, capsys)
    line = assert_one_error_line(code, err)
    assert message in line
    if argv[0] == "ingest":
        assert not store.exists(tmp_path / "idx")  # nothing readable: no index is made


@pytest.mark.parametrize("k", ["abc", "2.5"])
def test_non_numeric_k_is_one_error_line(k: str, seeds_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = cli.main(["ask", "Who did Ruto call?", "--k", k, "--index", str(seeds_index)])
    except SystemExit as exc:  # argparse exits by itself
        code = int(exc.code or 0)
    assert_one_error_line(code, capsys.readouterr().err)


def test_ingest_html_file(tmp_path: Path, tiny_bot: None, capsys: pytest.CaptureFixture[str]) -> None:
    page = _write(tmp_path, "page.html", (
        b"<html><head><title>Ruto speaks with Rubio</title></head><body><article><h1>Ruto speaks with Rubio</h1>"
        b"<p>President William Ruto held talks with United States Secretary of State Marco Rubio on trade.</p>"
        b"</article></body></html>\n"))
    code, out, err = run(["ingest", str(page), "--index", str(tmp_path / "idx")], capsys)
    assert code == 0 and "1 added" in out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([], capsys)
    assert code == 2 and "ingest" in out and "ask" in out


# ---- real processes: the installed entry point, exit codes, nothing but one line on stderr --------------------

def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "60"}


def test_qa_entry_point_answers_piped_questions_as_json_lines(seeds_index: Path) -> None:
    qa = Path(sys.executable).parent / "qa"
    proc = subprocess.run([str(qa), "ask", "--json", "--index", str(seeds_index)], input=f"{PLEDGE}\n{WORLD_CUP}\n",
                          capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == ""
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    check_pledge(first)
    check_world_cup(second)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "Who did Ruto call?", "--index", "{tmp}/no-index"], "no index at"),
        (["ingest", "{tmp}/bad.txt", "--index", "{tmp}/idx"], "binary file"),
        (["ingest", "{tmp}/a[/]b.txt", "--index", "{tmp}/idx"], "a[/]b.txt: no such file"),  # not read as markup
    ],
)
def test_process_exit_code_and_single_error_line(argv: list[str], message: str, tmp_path: Path) -> None:
    _write(tmp_path, "bad.txt", b"\xff\xfe\x81\x00n\x00o\x00t\x00 \x00t\x00e\x00x\x00t\x00")  # UTF-16
    argv = [a.format(tmp=tmp_path) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "adapters", *argv], capture_output=True, text=True, cwd=ROOT,
                          env=_env(), timeout=120)
    line = assert_one_error_line(proc.returncode, proc.stderr)
    assert proc.returncode == 1 and message in line


# ---- the reader ---------------------------------------------------------------------------------------------

def test_reader_none_answers_as_retrieval_alone(index_arg: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The reader quotes the sentence that expands the acronym; without it, the answer is the one recorded
    before the reader existed."""
    question = "What does STIP stand for?"
    recorded = next(json.loads(line) for line in (ROOT / "tests" / "data" / "seeds_answers_no_reader.jsonl")
                    .read_text(encoding="utf-8").splitlines() if json.loads(line)["question"] == question)
    code, out, _ = run(["ask", question, "--json", *index_arg], capsys)
    read = json.loads(out)
    assert code == 0 and "Strategic Trade and Investment Partnership (STIP)" in read["answer"]
    code, out, _ = run(["ask", question, "--json", "--reader", "none", *index_arg], capsys)
    plain = json.loads(out)
    assert code == 0 and plain["answer"] == recorded["answer"] != read["answer"]
    assert [c["line_start"] for c in plain["citations"]] == [c["line_start"] for c in recorded["citations"]]


def test_eval_prints_the_reader_beside_retrieval_alone(index_arg: list[str], capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(["eval", str(ROOT / "tests" / "data" / "seeds_questions.jsonl"), *index_arg], capsys)
    assert code == 0
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in out.splitlines() if line.startswith("│")}
    assert {r for r in rows if r.startswith("this bot")} == {
        "this bot, hybrid + reader", "this bot, hybrid, no reader", "this bot, dense, no reader", "this bot, bm25, no reader"}
    # then the reader's answers by kind of question, and why the answers without the gold missed it
    assert {"who", "when", "how many", "what"} <= set(rows)
    assert {"wrong article", "right article, answer not read", "answer read, not chosen", "abstained"} <= set(rows)
    read, plain = rows["this bot, hybrid + reader"], rows["this bot, hybrid, no reader"]
    assert float(read[3]) > float(plain[3])  # answer has gold
    code, out, _ = run(["eval", str(ROOT / "tests" / "data" / "seeds_questions.jsonl"), "--reader", "none",
                        *index_arg], capsys)
    assert code == 0 and "hybrid + reader" not in out and "hybrid, no reader" in out
