"""What to do about an error, in the terminal's words: the core's errors say what is wrong, and each front end
words its own advice from the error's `fix` and fields (a `qa` command here)."""

from __future__ import annotations

from qa.errors import ASK, INGEST, REBUILD, IndexMissingError, ModelLoadError, ModelMismatchError, QAError


def advice(exc: QAError, *, chat: bool = False) -> str | None:
    """The advice for `exc` on the command line (or, with `chat`, in the terminal chat); None when its
    message says all."""
    fields = exc.fields
    if exc.fix == ASK:
        return "type a question, e.g. Who signed the agreement?" if chat else \
            'ask something, e.g. qa ask "Who signed the agreement?"'
    if exc.fix == INGEST:
        if isinstance(exc, ModelLoadError):
            return "run qa ingest to make it"
        if isinstance(exc, IndexMissingError) and fields.get("store"):
            return "run `qa ingest PATH` with this --store first"
        index = fields.get("index")
        return f"run `qa ingest PATH --index {index}` first" if index else "run `qa ingest PATH` first"
    if exc.fix == REBUILD:
        if isinstance(exc, ModelMismatchError):
            if fields.get("built_backend"):
                return f"rebuild it with `qa ingest --rebuild PATH`, or use --backend {fields['built_backend']}"
            return (f"rebuild it with `qa ingest --rebuild PATH --model {fields.get('asked')}`, "
                    f"or use --model {fields.get('built_model')}")
        return "rebuild it with `qa ingest --rebuild PATH`"
    return None


def with_advice(exc: QAError, *, chat: bool = False) -> str:
    """The error's message, then its advice after a colon."""
    said = advice(exc, chat=chat)
    return f"{exc}: {said}" if said else str(exc)
