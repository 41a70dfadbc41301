// Small DOM helpers. Everything the API returns is inserted as text, never as markup, except
// search snippets, which pass through safeSnippet() first.

// h('a', {href: '/x', class: 'link', onclick: fn}, 'text', child, [more]) builds an element.
// Attributes named on* become listeners; false/null/undefined attributes and children are
// skipped; strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces an element's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A snippet from the search API is HTML-escaped apart from <mark> and </mark>. Rather than
// trusting that, rebuild it: split on the two tags, decode the entities of the text between
// them and insert that text as text nodes, so nothing but <mark> elements can ever appear.
export function safeSnippet(snippet) {
  const out = document.createDocumentFragment();
  const decoder = document.createElement('textarea');
  const decode = (text) => {
    decoder.innerHTML = text;  // a textarea's content is RCDATA: entities decode, tags don't run
    return decoder.value;
  };
  let marked = false;
  for (const part of String(snippet || '').split(/(<\/?mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) out.append(marked ? h('mark', {}, decode(part)) : decode(part));
  }
  return out;
}

export function formatNumber(n) {
  return typeof n === 'number' ? n.toLocaleString('en') : String(n ?? '');
}

// "2024-05-01T10:00:00Z" as a short local date and time; anything else unchanged.
export function formatTime(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return String(text);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// A date without the time of day.
export function formatDate(text) {
  const date = new Date(text);
  if (!text || Number.isNaN(date.getTime())) return String(text ?? '');
  return date.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function relativeTime(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return String(text);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return '';
}

// A button that copies text and says so for a moment.
export function copyButton(label, getText) {
  const button = h('button', { type: 'button', class: 'copy' }, label);
  button.addEventListener('click', async () => {
    const text = getText();
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch {
      // Clipboard API unavailable (plain http on another host): fall back to a selection copy.
      const area = h('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
      area.value = text;
      document.body.append(area);
      area.select();
      done = document.execCommand('copy');
      area.remove();
    }
    button.textContent = done ? 'Copied' : 'Copy failed';
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  return button;
}

// A message line: kind is "error", "info" or "ok".
export function message(kind, text) {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
