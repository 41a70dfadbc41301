// The REST API as the UI uses it: the key kept in localStorage and sent as a bearer token,
// problem+json answers turned into ApiError with the server's detail.
const KEY_STORAGE = 'octohub.key';

export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

export function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key then lives only as long as the page.
  }
  window.dispatchEvent(new CustomEvent('octohub:key'));
}

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.problem = problem || null;
  }
}

// The sentence shown for a problem+json answer: its detail, then each field error as
// "<pointer> <reason>" (the server's field errors carry "pointer" and "reason").
export function describe(status, problem) {
  let text = problem?.detail || problem?.title || `The server answered ${status}`;
  if (Array.isArray(problem?.errors) && problem.errors.length) {
    text += ': ' + problem.errors
      .map((e) => [e.pointer, e.reason ?? e.message].filter(Boolean).join(' ')).join('; ');
  }
  if (status === 401) text += ' — enter an API key under Admin.';
  if (status === 403) text += ' — this needs a key with a stronger role.';
  return text;
}

// fetch() with the key; answers the raw Response when ok, throws ApiError otherwise.
export async function request(path, { method = 'GET', body, signal, headers = {} } = {}) {
  const all = { Accept: 'application/json', ...headers };
  const key = storedKey();
  if (key) all.Authorization = `Bearer ${key}`;
  if (body !== undefined) all['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, signal, headers: all, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Cannot reach Octohub (${error.message})`);
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // Not JSON: the status line says enough.
    }
    throw new ApiError(response.status, describe(response.status, problem), problem);
  }
  return response;
}

export async function getJson(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export async function sendJson(method, path, body) {
  const response = await request(path, { method, body });
  return response.status === 204 ? null : response.json();
}

export function recordPath(source, id) {
  return `/api/v1/records/${encodeURIComponent(source)}/${encodeURIComponent(id)}`;
}

// A list from an answer shaped {"<name>": [...]} or a bare array.
export function listOf(body, name) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body[name])) return body[name];
  return [];
}
