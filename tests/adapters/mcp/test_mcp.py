"""`qa mcp` driven by the MCP SDK's own stdio client: the tools and their descriptions, a cited answer, an
abstention, search, and the articles as resources."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT
from tests.support.slack_process import qa_env


async def _session(index: Path, home: Path, work: Any) -> Any:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "adapters", "mcp", "--index", str(index)],
                                   env=qa_env(home), cwd=str(ROOT))
    with (home / "mcp-stderr.log").open("w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def test_an_assistant_lists_the_tools_asks_searches_and_reads_articles(seeds_index: Path, tmp_path: Path) -> None:
    async def work(session: Any) -> dict[str, Any]:
        tools = await session.list_tools()
        asked = await session.call_tool("ask", {"question": "Who did Ruto call in January 2025?", "k": 3})
        first = asked.structuredContent
        followed = await session.call_tool("ask", {"question": "What did they say about Haiti?", "history": [
            {"question": first["question"], "answer": first["answer"], "asked_as": first["asked_as"],
             "about": first["about"]}]})
        no_k = await session.call_tool("ask", {"question": "Who did Ruto call in January 2025?", "k": 0})
        alone = await session.call_tool("ask", {"question": "What did they say about Haiti?"})
        outside = await session.call_tool("ask", {"question": "What is the boiling point of mercury?"})
        empty = await session.call_tool("ask", {"question": "   "})
        found = await session.call_tool("search", {"query": "Haiti mission", "k": 2})
        listed = await session.list_resources()
        first = listed.resources[0]
        read = await session.read_resource(first.uri)
        return {"tools": tools, "asked": asked, "followed": followed, "alone": alone, "outside": outside,
                "empty": empty, "found": found, "no_k": no_k,
                "listed": listed, "read": read}

    got = asyncio.run(_session(seeds_index, tmp_path, work))
    tools = {t.name: t for t in got["tools"].tools}
    assert set(tools) == {"ask", "search"}
    assert "verbatim" in tools["ask"].description and "abstained" in tools["ask"].description

    asked = got["asked"]
    assert not asked.isError
    answer = asked.structuredContent
    assert "Marco Rubio" in answer["answer"] and answer["answer"].rstrip().endswith("[1]")
    top = answer["citations"][0]
    assert top["source"].startswith("seeds/003_") or top["source"].startswith("seeds/004_")
    assert isinstance(top["line_start"], int) and top["text"] in Path(ROOT, top["source"]).read_text(encoding="utf-8")
    assert json.loads(asked.content[0].text) == answer  # the same answer as text, for clients without structure
    assert answer["asked_as"] is None

    # a follow-up, with the conversation passed back: "they" are Ruto and Rubio, as in every other front end
    assert "history" in tools["ask"].inputSchema["properties"]
    followed = got["followed"].structuredContent
    assert "Rubio" in followed["asked_as"] and followed["question"] == "What did they say about Haiti?"
    assert all(c["source"].startswith(("seeds/003_", "seeds/004_")) for c in followed["citations"])
    assert got["alone"].structuredContent["asked_as"] is None

    assert got["outside"].structuredContent["abstained"] is True
    assert got["outside"].structuredContent["citations"] == []
    assert got["empty"].isError and "empty" in got["empty"].content[0].text.lower()
    assert "qa ask" not in got["empty"].content[0].text  # advice for an assistant, not for a command line
    assert len(got["found"].structuredContent["passages"]) == 2
    assert got["no_k"].isError and "k must be a whole number from 1 to 50" in got["no_k"].content[0].text  # never taken as 1

    assert len(got["listed"].resources) == 5
    text = got["read"].contents[0].text
    assert text.startswith("source: seeds/") and "\n1: " in text
