// Search as you type over /api/v1/search. The query lives in the URL, so searches can be
// bookmarked; answers to superseded queries are dropped.
const form = document.getElementById('search-form');
const input = document.getElementById('q');
const statusLine = document.getElementById('status');
const hitList = document.getElementById('hits');
const pager = document.getElementById('pager');
const perPage = 20;
let page = 1;
let latest = 0;
let timer = null;

function escapeText(text) {
  const div = document.createElement('div');
  div.textContent = text;
  return div.innerHTML;
}

function render(result) {
  const seconds = `${result.took_ms.toFixed(1)} ms`;
  const total = `${result.total_exact ? '' : 'about '}${result.total}`;
  statusLine.textContent = result.total === 0
    ? `No results for “${result.query}”. Try fewer or other words, or a * wildcard.`
    : `${total} results (${seconds})`;
  hitList.innerHTML = result.hits.map((hit) => `
    <li class="hit">
      <h2>${escapeText(hit.title || hit.id)}</h2>
      <p class="meta">${escapeText(hit.source)} · ${escapeText(hit.id)}</p>
      <p class="snippet">${hit.snippet}</p>
    </li>`).join('');  // snippets arrive HTML-escaped apart from <mark>
  const pages = Math.ceil(result.total / perPage);
  pager.hidden = pages <= 1;
  document.getElementById('page-label').textContent = `Page ${page} of ${pages}`;
  document.getElementById('prev').disabled = page <= 1;
  document.getElementById('next').disabled = page >= pages;
}

async function search(pushHistory) {
  const q = input.value;
  const ticket = ++latest;
  const params = new URLSearchParams({ q, page, per_page: perPage, prefix: 'true' });
  if (pushHistory) history.replaceState(null, '', q ? `?q=${encodeURIComponent(q)}&page=${page}` : '/');
  try {
    const response = await fetch(`/api/v1/search?${params}`);
    const body = await response.json();
    if (ticket !== latest) return;  // a newer query is on its way
    if (!response.ok) {
      statusLine.textContent = body.detail || `Search failed (${response.status})`;
      hitList.innerHTML = '';
      pager.hidden = true;
      return;
    }
    render(body);
  } catch (error) {
    if (ticket === latest) statusLine.textContent = `Cannot reach Octohub: ${error.message}`;
  }
}

input.addEventListener('input', () => {
  page = 1;
  clearTimeout(timer);
  timer = setTimeout(() => search(true), 120);
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  page = 1;
  search(true);
});
document.getElementById('prev').addEventListener('click', () => { page -= 1; search(true); });
document.getElementById('next').addEventListener('click', () => { page += 1; search(true); });
document.addEventListener('keydown', (event) => {
  if (event.key === '/' && document.activeElement !== input) {
    event.preventDefault();
    input.focus();
  }
});

const initial = new URLSearchParams(location.search);
input.value = initial.get('q') || '';
page = Number(initial.get('page')) || 1;
search(false);
