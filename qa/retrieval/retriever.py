"""Hybrid retrieval: dense cosines and BM25 fused by weighted scores, near-duplicate passages grouped.

The store offers candidate passages (all of them when it is small); each candidate's sentences are
scored exactly here, with store-wide BM25 counts, and the scores are pooled per passage. The weights were chosen on the tuning
half of the SQuAD bench (see README, "How the weights were chosen"); weighted score fusion beat
reciprocal-rank fusion there by 5 to 8 points of hit@1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from qa.embedding import Embedder
from qa.errors import InputError
from qa.index.candidates import Candidates
from qa.index.contract import ReadStore
from qa.passages import Passage
from qa.retrieval.scoring import bm25, coverage, max_normalised
from qa.text.dates import TimeHint, within
from qa.text.dates import parse as parse_time
from qa.text.lexical import terms, tokens

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class Weights:
    """Sentence score SS and passage score PS as weighted sums of the signals."""

    # SS = sentence cosine + window·window cosine + bm25·BM25 + coverage·IDF coverage + length·length
    window: float = 0.25
    bm25: float = 0.5
    coverage: float = 1.0
    length: float = 0.2
    # PS = max sentence cosine + max window cosine + p_bm25·max BM25 + p_sentence·max SS + p_coverage·coverage
    p_bm25: float = 0.25
    p_sentence: float = 0.25
    p_coverage: float = 1.0
    # news time: a question naming a period favours articles dated in it over those dated outside it;
    # "latest" favours the newest. Set by hand (the bench has no dates): large enough to break a near
    # tie between outlets, too small to outweigh a clearly better passage.
    date: float = 0.4
    recency: float = 0.2


# passages asked of the store per half (nearest vectors, best BM25); all of a small store. On the SQuAD
# bench file, 20 per half already give the figures of scoring every passage.
CANDIDATES = 100
ECHOES = 20  # articles named as carrying the same sentence, at most
SAME_SENTENCE = 0.8  # two sentences this close, in passages sharing their terms, report the same statement
LEADS = 3  # articles whose leads answer a question about a period or the latest news, at most
ECHO = 0.9  # a sentence this close to one of another article says the same thing (the same quote)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage (the best of its near-duplicate group) with its sentence scores."""

    row: int  # position of the passage among the candidates (-1: a lead fetched from beyond them)
    passage: Passage
    score: float
    sentence_scores: np.ndarray  # SS of each sentence: which one answers
    sentence_dense: np.ndarray  # cosine of each sentence alone
    sentence_coverage: np.ndarray  # IDF-weighted share of the question's terms in each sentence
    sentence_vectors: np.ndarray  # (sentences, dim): whether two sentences say the same thing
    also: tuple[Passage, ...] = ()  # the same passage in other articles
    time: float = 0.0  # what the question's period or "latest" added to `score` (see Weights.date)

    def best_sentence(self) -> int | None:
        """The sentence with the highest retrieval score (None for a passage without sentences)."""
        return int(np.argmax(self.sentence_scores)) if len(self.sentence_scores) else None


@dataclass(frozen=True)
class Query:
    """A question prepared for scoring: its vector, BM25 tokens and content terms."""

    text: str
    vector: np.ndarray
    tokens: list[str]
    terms: list[str]
    time: TimeHint = field(default_factory=TimeHint)


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one question, computed once: the ranked passages (near-duplicates grouped),
    which of the question's terms the store knows, the names no article mentions, and for every sentence of
    the passages the other articles that carry the same statement."""

    query: Query
    hits: tuple[Hit, ...]
    known_terms: frozenset[str]
    unknown_names: tuple[str, ...]
    echoes: Mapping[tuple[int, int], tuple[Passage, ...]] = field(default_factory=dict)
    mentions: Mapping[str, frozenset[str]] = field(default_factory=dict)  # source -> the question's names it mentions
    reached: int = -1  # where the passages brought in by `reach` start among the hits (-1: none were)
    leads: tuple[int, ...] = ()  # the hits that are the leads of the articles the question's time points at, newest first

    def mentions_all(self, hit: int, names: tuple[str, ...]) -> bool:
        """Whether the article of hit `hit` mentions every one of `names` (in any of its candidate passages
        or its title)."""
        return set(names) <= self.mentions.get(self.hits[hit].passage.source, frozenset())

    def echoes_of(self, hit: int, sentence: int | None) -> tuple[Passage, ...]:
        """Passages of other articles that say what sentence `sentence` of hit `hit` says."""
        return self.echoes.get((hit, sentence), ()) if sentence is not None else ()


class Retriever:
    """Scores the candidates a store returns for a question; `mode` is hybrid, dense or bm25."""

    def __init__(self, source: ReadStore, embedder: Embedder, weights: Weights | None = None,
                 candidates: int = CANDIDATES) -> None:
        self.source = source
        self.embedder = embedder
        self.weights = weights or Weights()
        self.limit = candidates

    def _time_signal(self, hint: TimeHint, pool: Candidates) -> np.ndarray | None:
        """+1 for passages dated in the question's period, -1 for those dated outside it, 0 when unknown."""
        if hint.start is None and not hint.latest:
            return None
        w = self.weights
        signal = np.zeros(len(pool.dates), dtype=np.float32)
        if hint.start is not None:
            signal += w.date * np.array([{True: 1.0, False: -1.0, None: 0.0}[within(d, hint)]
                                         for d in pool.dates], dtype=np.float32)
        if hint.latest:
            dates = pool.stats.dates
            rank = {d: i / max(len(dates) - 1, 1) for i, d in enumerate(dates)}
            # 0 for the oldest dated article, 1 for the newest; undated articles get nothing
            signal += w.recency * np.array([rank.get(d or "", 0.0) for d in pool.dates], dtype=np.float32)
        return signal

    def prepare(self, question: str) -> Query:
        """Embed the question once; the same Query can be scored in every mode."""
        return self.prepare_many([question])[0]

    def prepare_many(self, questions: list[str]) -> list[Query]:
        """Prepare many questions with one batched embedding call."""
        texts = [q.strip() for q in questions]
        if not all(texts):
            raise InputError("the question is empty")
        vectors = self.embedder.encode(texts)
        return [Query(q, v, tokens(q), terms(q), parse_time(q)) for q, v in zip(texts, vectors, strict=True)]

    def candidates(self, query: Query, exclude: set[str] | None = None) -> Candidates:
        """What the store offers for the question."""
        return self.source.candidates(query.vector, query.tokens, query.terms, self.limit, exclude)

    def score(self, query: Query, mode: str = "hybrid", pool: Candidates | None = None
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores of the candidate passages and the per-sentence signals behind them (`pool` is asked
        of the store when not given)."""
        pool = pool if pool is not None else self.candidates(query)
        w = self.weights
        st = pool.stats
        sd = pool.sentence_vectors @ query.vector
        cd = pool.window_vectors @ query.vector
        cols = pool.columns
        sb = max_normalised(bm25(pool.sentence_tf, pool.sentence_len, cols, query.tokens, pool.sentence_df,
                                  st.sentences, st.sentence_tokens))
        icov = coverage(pool.sentence_tf, cols, query.terms, pool.sentence_df, st.sentences)
        starts = pool.starts

        def pooled(x: np.ndarray) -> np.ndarray:
            return np.maximum.reduceat(x, starts) if len(starts) else x[:0]

        if mode == "hybrid":
            length = np.minimum(pool.sentence_len.astype(np.float32) / 40, 1.0)
            ss = sd + w.window * cd + w.bm25 * sb + w.coverage * icov + w.length * length
            pcov = coverage(pool.passage_tf, cols, query.terms)
            ps = pooled(sd) + pooled(cd) + w.p_bm25 * pooled(sb) + w.p_sentence * pooled(ss) + w.p_coverage * pcov
        elif mode == "dense":
            ss = sd + w.window * cd
            ps = pooled(sd) + pooled(cd)
        elif mode == "bm25":
            ss = sb
            pb = bm25(pool.passage_tf, pool.passage_len, cols, query.tokens, pool.passage_df, st.passages,
                      st.passage_tokens)
            ps = max_normalised(pb) + w.p_bm25 * pooled(sb)
        else:
            raise InputError(f"unknown mode {mode!r}: use {', '.join(MODES)}")
        time_signal = self._time_signal(query.time, pool)
        signals = {"ss": ss, "sd": sd, "icov": icov}
        if time_signal is not None:
            ps = ps + time_signal
            signals["time"] = time_signal
        return ps, signals

    def retrieve(self, query: Query, names: tuple[str, ...] = (), k: int = 3, mode: str = "hybrid",
                 exclude: set[str] | None = None, pool: int = 30, reach: int = 0, leads: str | None = None
                 ) -> Retrieval:
        """The `k` best passage groups for the query, best first, with what the answer needs to know of them:
        `names` (the question's, see `qa.question`) are checked against the store's terms; `exclude` leaves out
        whole sources; near-duplicates are looked for among the `pool` best passages. With `reach`, the other
        candidate passages of the `reach` best articles that mention every name follow the `k` best: the
        sentence that answers may not repeat the names ("In a statement on Monday, he outlined…"). With
        `leads`, the first passages of the articles the question's time points at come too (see `_lead_sources`)."""
        candidates = self.candidates(query, exclude)
        unknown = tuple(unknown_names(names, candidates.known_terms))
        if not len(candidates.counts):
            return Retrieval(query, (), candidates.known_terms, unknown)
        ps, sig = self.score(query, mode, candidates)
        rows = self._grouped(ps, k, candidates, pool)
        mentions = _mentions(names, candidates, [candidates.passages[r] for r, _ in rows])
        reached = -1
        if reach:
            reached = len(rows)
            rows += self._reach(ps, rows, candidates, mentions, names, reach)
        hits = [self._hit(row, also, ps, sig, candidates) for row, also in rows]
        lead_hits: list[int] = []
        if leads:
            sources = self._lead_sources(leads, query.time, [candidates.sources[r] for r, _ in rows], mentions,
                                         names, exclude or set())
            found = self.source.leads(sources)
            for source in sources:
                if source in found:
                    lead_hits.append(_index_of(hits, found[source], ps, sig, candidates))
        frozen = tuple(hits)
        return Retrieval(query, frozen, candidates.known_terms, unknown, _echoes(frozen, candidates), mentions,
                         reached, tuple(lead_hits))

    def _lead_sources(self, leads: str, hint: TimeHint, ranked: list[str], mentions: Mapping[str, frozenset[str]],
                      names: tuple[str, ...], exclude: set[str]) -> list[str]:
        """The articles whose leads answer: for "period", those dated in the question's period; for "latest",
        the dated ones among the retrieved that mention every name; newest first, at most LEADS."""
        docs = self.source.documents()
        if leads == "period":
            dated = [(r.date or "", s) for s, r in docs.items() if r.date and within(r.date, hint) and s not in exclude
                     and (not names or set(names) <= mentions.get(s, frozenset()))]
        else:
            seen = list(dict.fromkeys(ranked))
            dated = [(docs[s].date or "", s) for s in seen if s in docs and docs[s].date
                     and set(names) <= mentions.get(s, frozenset())]
        return [s for _, s in sorted(dated, reverse=True)[:LEADS]]

    def search(self, query: Query, k: int = 3, mode: str = "hybrid", exclude: set[str] | None = None,
               pool: int = 30) -> tuple[Hit, ...]:
        """The `k` best passage groups for the query, best first (see `retrieve`)."""
        return self.retrieve(query, k=k, mode=mode, exclude=exclude, pool=pool).hits

    def _grouped(self, ps: np.ndarray, k: int, candidates: Candidates, pool: int) -> list[tuple[int, list[Passage]]]:
        """The `k` best candidates by passage score `ps`, each the best of its near-duplicate group (with the
        rest of the group), among the `pool` best."""
        order = np.argsort(-ps, kind="stable")[: max(pool, k)]
        kept: list[int] = []
        also: dict[int, list[Passage]] = {}
        terms_of: dict[int, frozenset[str]] = {}
        for row in (int(r) for r in order):
            passage = candidates.passages[row]
            dup = next((h for h in kept if near_duplicate(candidates, h, row, terms_of)), None)
            if dup is not None:
                group = also[dup]
                if passage.source != candidates.passages[dup].source and all(passage.source != o.source for o in group):
                    group.append(passage)
                continue
            if len(kept) < k:
                kept.append(row)
                also[row] = []
        return [(row, also[row]) for row in kept]

    def _reach(self, ps: np.ndarray, rows: list[tuple[int, list[Passage]]], candidates: Candidates,
               mentions: Mapping[str, frozenset[str]], names: tuple[str, ...], reach: int
               ) -> list[tuple[int, list[Passage]]]:
        """The other candidate passages of the `reach` best articles among `rows` that mention every name,
        best first, leaving out those that repeat a passage already kept."""
        articles: list[str] = []
        for row, _ in rows:
            source = candidates.sources[row]
            if source not in articles and set(names) <= mentions.get(source, frozenset()):
                articles.append(source)
        articles = articles[:reach]
        kept = [row for row, _ in rows]
        terms_of: dict[int, frozenset[str]] = {}
        more: list[tuple[int, list[Passage]]] = []
        for row in (int(r) for r in np.argsort(-ps, kind="stable")):
            if candidates.sources[row] in articles and row not in kept and \
                    not any(near_duplicate(candidates, h, row, terms_of) for h in kept):
                more.append((row, []))
                kept.append(row)
        return more

    @staticmethod
    def _hit(row: int, also: list[Passage], ps: np.ndarray, sig: dict[str, np.ndarray], candidates: Candidates) -> Hit:
        start = int(candidates.starts[row])
        sl = slice(start, start + int(candidates.counts[row]))
        return Hit(row, candidates.passages[row], float(ps[row]), sig["ss"][sl], sig["sd"][sl], sig["icov"][sl],
                   candidates.sentence_vectors[sl], tuple(also), float(sig["time"][row]) if "time" in sig else 0.0)


def _index_of(hits: list[Hit], lead: Passage, ps: np.ndarray, sig: dict[str, np.ndarray], candidates: Candidates) -> int:
    """Where `lead` stands among `hits`, adding it (from the candidates, or bare when it is not one) if absent."""
    for i, h in enumerate(hits):
        if h.passage == lead or lead in h.also:
            return i
    row = next((r for r, source in enumerate(candidates.sources)
                if source == lead.source and candidates.passages[r] == lead), None)
    if row is not None:
        hits.append(Retriever._hit(row, [], ps, sig, candidates))
    else:
        n = len(lead.sentences)
        zero = np.zeros(n, dtype=np.float32)
        hits.append(Hit(-1, lead, 0.0, zero, zero, zero, np.zeros((n, candidates.sentence_vectors.shape[1]),
                                                                      dtype=np.float32)))
    return len(hits) - 1


def near_duplicate(pool: Candidates, a: int, b: int, terms_of: dict[int, frozenset[str]]) -> bool:
    """Whether candidates `a` and `b` say the same thing: most content terms of the shorter appear in the
    longer and each sentence of the shorter has one close in meaning in the longer (a statement one outlet
    gives alone and another beside an unrelated sentence). Within one article the longer must hold nothing
    else either: a line and the longer quote that repeats it and goes on are both kept. Sentence vectors
    are embedded alone however the passage vectors were made (see `qa.config.VECTORS`). `terms_of` caches
    each candidate's content terms."""
    for i in (a, b):
        if i not in terms_of:
            terms_of[i] = frozenset(terms(pool.passages[i].text))
    (small, s), (large, other) = sorted(((terms_of[a], a), (terms_of[b], b)), key=lambda x: len(x[0]))
    if not small or len(small & large) / len(small) < 0.8:
        return False
    sv, starts, counts = pool.sentence_vectors, pool.starts, pool.counts
    close = sv[starts[s]:starts[s] + counts[s]] @ sv[starts[other]:starts[other] + counts[other]].T
    if not close.size or close.max(axis=1).min() < SAME_SENTENCE:
        return False
    return pool.sources[a] != pool.sources[b] or bool(close.max(axis=0).min() >= SAME_SENTENCE)


def unknown_names(names: tuple[str, ...], known_terms: frozenset[str]) -> list[str]:
    """The question's names that no article mentions, when they must be what it is about: a several-word
    name whose last word never occurs ("Chancellor Olaf Scholz"), or every name of the question. A lone
    unknown word beside known names is let through: it may be a metonym ("Brussels" for the EU)."""
    def known(words: str) -> bool:
        return known_terms.issuperset(terms(words))

    unknown = [r for r in names if not known(r)]
    # the last word of a several-word name is the one that identifies it ("Chancellor Olaf Scholz")
    if any(len(r.split()) > 1 and not known(r.split()[-1]) for r in unknown) or (names and len(unknown) == len(names)):
        return unknown
    return []


def _identifying_term(name: str) -> str | None:
    """The word of a name that identifies it: its last content term ("Marco Rubio" -> rubio)."""
    found = terms(name)
    return found[-1] if found else None


def _mentions(names: tuple[str, ...], pool: Candidates, passages: list[Passage]) -> dict[str, frozenset[str]]:
    """For each article among the candidates, which of the question's names it mentions: the name's
    identifying word is in one of the article's candidate passages, or in its title."""
    wanted = {n: t for n in names if (t := _identifying_term(n)) is not None}
    if not wanted:
        return {}
    cols = {t: pool.columns.index(t) for t in set(wanted.values()) if t in pool.columns}
    present: dict[str, set[str]] = {}
    for row, source in enumerate(pool.sources):
        have = present.setdefault(source, set())
        have.update(t for t, c in cols.items() if pool.passage_tf[row, c] > 0)
    for p in passages:
        present.setdefault(p.source, set()).update(terms(p.title or ""))
    return {source: frozenset(n for n, t in wanted.items() if _said(t, have)) | frozenset(n for n in names if n not in wanted)
            for source, have in present.items()}


def _said(term: str, have: set[str]) -> bool:
    """Whether `term` is among `have`, or shares a long stem with one of them ("victorian", "victoria")."""
    return term in have or any(min(len(term), len(h)) >= 5 and (term.startswith(h) or h.startswith(term)) for h in have)


def _echoes(hits: tuple[Hit, ...], pool: Candidates, threshold: float = ECHO) -> dict[tuple[int, int], tuple[Passage, ...]]:
    """For each sentence of each hit, the passages of other articles among the candidates holding a sentence
    that says the same (the same quote carried by several outlets), one per article, at most ECHOES."""
    out: dict[tuple[int, int], tuple[Passage, ...]] = {}
    if not hits:
        return out
    sv = pool.sentence_vectors
    owner = np.repeat(np.arange(len(pool.counts)), pool.counts)
    among = [h for h in hits if h.row >= 0]  # a lead fetched from outside the candidates has none to compare with
    if not among:
        return out
    rows = np.concatenate([pool.starts[h.row] + np.arange(len(h.sentence_scores)) for h in among])
    close_all = (sv[rows] @ sv.T) >= threshold
    at = 0
    for i, h in enumerate(hits):
        if h.row < 0:
            continue
        for j in range(len(h.sentence_scores)):
            close = np.flatnonzero(close_all[at])
            at += 1
            seen = {h.passage.source, *(p.source for p in h.also)}
            found: list[Passage] = []
            for r in close:
                if len(found) == ECHOES:
                    break
                row = int(owner[r])
                if pool.sources[row] not in seen:
                    seen.add(pool.sources[row])
                    found.append(pool.passages[row])
            if found:
                out[(i, j)] = tuple(found)
    return out
