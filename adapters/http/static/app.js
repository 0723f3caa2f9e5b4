// The page: a question box, what is indexed with example questions, the answer with its [n] markers linked to
// their citation cards, and the cited article with the quoted lines highlighted. Article text is only ever set
// with textContent, so it can never become markup.
"use strict";

const $ = (id) => document.getElementById(id);
// The conversation's earlier [question, answer] turns, sent with each follow-up; the server says how many it
// reads and how long an answer may be (GET /api/overview), the same number every front end keeps.
const limits = {history_turns: 6, history_answer_chars: 4000, question_chars: 2000};
let history = [];
let turns = 0;  // answers shown so far, for the cards' ids
let token = sessionStorage.getItem("qa-token");
const UNREACHABLE = "Cannot reach the server: is qa serve still running? Ask again once it is.";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({"Content-Type": "application/json"}, options.headers || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, {headers}));
  } catch (error) {
    throw new Error(UNREACHABLE);  // the browser's own "Failed to fetch" says nothing a reader can act on
  }
  if (response.status === 401) {
    const given = window.prompt("This server needs an access token:");
    if (given) { token = given; sessionStorage.setItem("qa-token", given); return api(path, options); }
  }
  const body = await response.json().catch(() => ({error: "the server sent something that is not JSON"}));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

function quote(c) {
  const box = el("div", "quote");
  const [start, end] = c.highlight || [0, 0];  // only a passage the answer quotes has one
  box.append(document.createTextNode(c.text.slice(0, start)));
  if (end > start) box.append(el("mark", null, c.text.slice(start, end)));
  box.append(document.createTextNode(c.text.slice(end)));
  return box;
}

function cardId(turn, n) { return "card-" + turn + "-" + n; }

// A citation card: its heading (the article's title, or its file) opens the article; the feed entry's link
// opens the entry. Only a citation the answer quotes has its sentence highlighted.
function card(c, turn) {
  const box = el("div", "card");
  box.id = cardId(turn, c.n);
  box.tabIndex = -1;  // the [n] links move focus here
  const open = el("button", "open");
  open.type = "button";
  open.append(el("span", "n", "[" + c.n + "] "), document.createTextNode(c.heading));
  open.addEventListener("click", () => openArticle(c));
  box.append(el("h3", "heading"));
  box.lastChild.append(open);
  const meta = [c.heading !== c.location ? c.location : null, c.date, c.section].filter(Boolean).join(" · ");
  if (meta) box.append(el("div", "meta", meta));
  if (c.stale) box.append(el("div", "stale", "changed since indexed — run qa ingest"));
  box.append(quote(c));
  if (c.also_in && c.also_in.length) box.append(el("div", "also", "also in: " + c.also_in.join(", ")));
  if (c.url) {  // only a link a reader can follow (http, https) is sent
    const link = el("a", "entry", c.url);
    link.href = c.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link);
  }
  // a click anywhere on the card (but a link) opens the article too
  box.addEventListener("click", (event) => { if (!event.target.closest("a, button")) openArticle(c); });
  return box;
}

// The answer's text, with the part that answers in bold and each [n] a link to its card.
function answerText(pieces, turn, numbers) {
  const box = el("div", "answer");
  for (const piece of pieces) {
    if (piece.answer) box.append(el("strong", "span", piece.text));
    else markers(box, piece.text, turn, numbers);
  }
  return box;
}

function markers(box, text, turn, numbers) {
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    if (m && numbers.has(Number(m[1]))) {
      const link = el("a", "marker", part);
      link.href = "#" + cardId(turn, m[1]);
      link.setAttribute("aria-label", "citation " + m[1]);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const target = $(cardId(turn, m[1]));
        target.scrollIntoView({block: "nearest"});
        target.focus({preventScroll: true});
      });
      box.append(link);
    } else {
      box.append(document.createTextNode(part));
    }
  }
  return box;
}

function showAnswer(turn, answer) {
  turns += 1;
  if (answer.asked_as) turn.append(el("div", "taken", "taken as: " + answer.asked_as));
  if (answer.abstained) {
    turn.append(el("div", "answer abstain", answer.headline));
    if (answer.nearest.length) {
      turn.append(el("div", "meta", "Nearest passages, not an answer:"));
      const cards = el("div", "cards");
      answer.nearest.forEach((c) => cards.append(card(c, turns)));
      turn.append(cards);
    }
    return;
  }
  turn.append(answerText(answer.pieces, turns, new Set(answer.citations.map((c) => c.n))));
  const cards = el("div", "cards");
  answer.citations.forEach((c) => cards.append(card(c, turns)));
  turn.append(cards);
}

function formError(message) {
  $("form-error").textContent = message || "";
}

async function ask(event, given) {
  if (event) event.preventDefault();
  const input = $("question");
  const question = (given || input.value).trim();
  if (!question) {
    formError("Type a question first, e.g. one of the examples below.");
    input.focus();
    return;
  }
  formError("");
  input.value = "";
  $("welcome").hidden = true;
  const turn = el("article", "turn");
  turn.append(el("h2", "question", question));
  $("conversation").prepend(turn);
  const waiting = el("div", "meta", "…");
  turn.append(waiting);
  try {
    const answer = await api("/api/ask", {method: "POST", body: JSON.stringify({question, history, view: "web"})});
    waiting.remove();
    showAnswer(turn, answer);
    const said = answer.answer === null ? null : answer.answer.slice(0, limits.history_answer_chars);
    history.push([answer.question, said, answer.asked_as, answer.about]);
    history = history.slice(-limits.history_turns);
  } catch (error) {
    waiting.remove();
    turn.append(el("div", "error", error.message));
  }
}

async function openArticle(c) {
  const dialog = $("article");
  $("article-title").textContent = c.title || c.source;
  $("article-meta").textContent = [c.source, c.date, c.url].filter(Boolean).join(" · ");
  const list = $("article-lines");
  list.replaceChildren(el("li", "page", "loading…"));
  dialog.showModal();
  try {
    const article = await api("/api/sources/" + encodeURIComponent(c.id));
    $("article-stale").hidden = !article.stale;
    list.replaceChildren();
    let page = null;
    let first = null;
    for (const line of article.lines) {
      if (line.page !== null && line.page !== page) {
        page = line.page;
        list.append(el("li", "page", "page " + page));
      }
      const item = el("li", null, line.text || " ");
      item.value = line.n;
      item.dataset.line = line.n;
      const samePage = (c.page === null || c.page === undefined) || line.page === c.page;
      if (samePage && line.n >= c.line_start && line.n <= c.line_end) {
        item.classList.add("hit");
        first = first || item;
      }
      list.append(item);
    }
    if (first) first.scrollIntoView({block: "center"});
  } catch (error) {
    list.replaceChildren(el("li", "error", error.message));
  }
}

// What is indexed, said before the first question: how many articles, their dates, three questions to try.
async function welcome() {
  try {
    const about = await api("/api/overview");
    Object.assign(limits, about);
    $("question").maxLength = about.question_chars;
    const count = about.articles === 1 ? "1 article" : about.articles + " articles";
    const span = about.first_date && about.last_date
      ? (about.first_date === about.last_date ? ", dated " + about.first_date
        : ", dated " + about.first_date + " to " + about.last_date) : "";
    $("indexed").textContent = about.articles
      ? count + " indexed" + span + ". Try:" : "No articles are indexed yet: run qa ingest FOLDER.";
    const examples = $("examples");
    examples.replaceChildren();
    for (const question of about.examples) {
      const button = el("button", "example secondary", question);
      button.type = "button";
      button.addEventListener("click", () => ask(null, question));
      examples.append(button);
    }
  } catch (error) {
    $("indexed").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask").addEventListener("submit", ask);
  $("new").addEventListener("click", () => {
    history = [];
    $("conversation").replaceChildren();
    $("welcome").hidden = false;
    formError("");
    $("question").focus();
  });
  $("close").addEventListener("click", () => $("article").close());
  // Esc closes the dialog natively; focus goes back to the question box either way.
  $("article").addEventListener("close", () => $("question").focus());
  welcome();
});
