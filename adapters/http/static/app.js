// The page: a question box, the answer with its [n] markers, citation cards, and the cited article with the
// quoted lines highlighted. Article text is only ever set with textContent, so it can never become markup.
"use strict";

const $ = (id) => document.getElementById(id);
let history = [];  // [question, answer] turns of this conversation, sent with each follow-up
let token = sessionStorage.getItem("qa-token");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({"Content-Type": "application/json"}, options.headers || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) {
    const given = window.prompt("This server needs an access token:");
    if (given) { token = given; sessionStorage.setItem("qa-token", given); return api(path, options); }
  }
  const body = await response.json().catch(() => ({error: "the server sent something that is not JSON"}));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

function where(c) {
  const lines = c.line_start === c.line_end ? "line " + c.line_start : "lines " + c.line_start + "–" + c.line_end;
  const source = c.source.split("#entry=")[0];
  return c.page !== null && c.page !== undefined ? source + " p. " + c.page + ", " + lines : source + ", " + lines;
}

function quote(c) {
  const box = el("div", "quote");
  const [start, end] = c.highlight || [0, 0];
  box.append(document.createTextNode(c.text.slice(0, start)));
  if (end > start) box.append(el("mark", null, c.text.slice(start, end)));
  box.append(document.createTextNode(c.text.slice(end)));
  return box;
}

function card(c) {
  const button = el("button", "card");
  button.type = "button";
  button.dataset.n = c.n;
  button.append(el("span", "where", "[" + c.n + "] " + where(c)));
  const meta = [c.title, c.date, c.section].filter(Boolean).join(" · ");
  if (meta) button.append(el("div", "meta", meta));
  if (c.stale) button.append(el("div", "stale", "changed since indexed — run qa ingest"));
  if (c.url) button.append(el("div", "meta", c.url));
  button.append(quote(c));
  if (c.also_in && c.also_in.length) button.append(el("div", "also", "also in: " + c.also_in.join(", ")));
  button.addEventListener("click", () => openArticle(c));
  return button;
}

function showAnswer(turn, answer) {
  if (answer.asked_as) turn.append(el("div", "taken", "taken as: " + answer.asked_as));
  if (answer.abstained) {
    turn.append(el("div", "answer abstain", "The articles do not answer this question."));
    if (answer.nearest.length) {
      turn.append(el("div", "meta", "Nearest passages, not an answer:"));
      const cards = el("div", "cards");
      answer.nearest.slice(0, 2).forEach((c) => cards.append(card(c)));
      turn.append(cards);
    }
    return;
  }
  turn.append(el("div", "answer", answer.answer));
  const cards = el("div", "cards");
  answer.citations.forEach((c) => cards.append(card(c)));
  turn.append(cards);
}

async function ask(event) {
  event.preventDefault();
  const input = $("question");
  const question = input.value.trim();
  if (!question) return;
  input.value = "";
  const turn = el("article", "turn");
  turn.append(el("div", "question", question));
  $("conversation").prepend(turn);
  const waiting = el("div", "meta", "…");
  turn.append(waiting);
  try {
    const answer = await api("/api/ask", {method: "POST", body: JSON.stringify({question, history, view: "web"})});
    waiting.remove();
    showAnswer(turn, answer);
    history.push([question, answer.answer]);
    history = history.slice(-10);
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

document.addEventListener("DOMContentLoaded", () => {
  $("ask").addEventListener("submit", ask);
  $("new").addEventListener("click", () => { history = []; $("conversation").replaceChildren(); $("question").focus(); });
  $("close").addEventListener("click", () => $("article").close());
  // Esc closes the dialog natively; focus goes back to the question box either way.
  $("article").addEventListener("close", () => $("question").focus());
});
