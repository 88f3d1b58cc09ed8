// REST client for /api/v1 (CONTRACT §2): users, channels, memberships, notifications.
const TOKEN_KEY = 'agora.token';
const USER_KEY = 'agora.user';

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function getStoredUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) || 'null');
  } catch {
    return null;
  }
}

/*
 * Attachments are loaded by <img> and links, which send cookies but no
 * Authorization header: the token also goes into a cookie that only the file
 * route reads (path /api/v1/files, same site only).
 */
export function syncFileCookie() {
  const token = localStorage.getItem(TOKEN_KEY);
  document.cookie = token
    ? `agora_token=${token}; path=/api/v1/files; SameSite=Strict`
    : 'agora_token=; path=/api/v1/files; SameSite=Strict; max-age=0';
}

export function storeSession(user, token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  if (user) localStorage.setItem(USER_KEY, JSON.stringify(user));
  syncFileCookie();
}

export function clearSession() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
  syncFileCookie();
}

/** PUT a picture as the user's avatar; the updated user. */
export async function putAvatar(file) {
  const res = await fetch('/api/v1/users/me/avatar', {
    method: 'PUT',
    headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}`, 'Content-Type': file.type || 'application/octet-stream' },
    body: file,
  });
  const j = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, j && j.error && j.error.code, j && j.error && j.error.message);
  return j;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

const listeners = new Set();
/** Called with no argument when the server says the token is no longer good (401). */
export function onUnauthorized(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
export function fireUnauthorized() {
  listeners.forEach((fn) => fn());
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached');
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    if (res.status === 401 && token && !path.startsWith('/auth/')) fireUnauthorized();
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

// ---- users (cached: events carry ids only) -------------------------------
const userCache = new Map(); // id → Promise<User>

export function rememberUser(u) {
  if (u && u.id) userCache.set(String(u.id), Promise.resolve(u));
}

export function getUser(id) {
  id = String(id);
  if (!userCache.has(id)) {
    const p = api('GET', `/users/${encodeURIComponent(id)}`).catch((e) => {
      userCache.delete(id);
      throw e;
    });
    userCache.set(id, p);
  }
  return userCache.get(id);
}

export function forgetUser(id) {
  userCache.delete(String(id));
}

export function displayName(u) {
  if (!u) return '';
  return u.displayName || u.username || '';
}

export async function searchUsers(q, limit = 8) {
  const r = await api('GET', `/users?q=${encodeURIComponent(q)}&limit=${limit}`);
  (r.items || []).forEach(rememberUser);
  return r.items || [];
}

export async function listAll(path, max = 500) {
  // follows `next` cursors (keyset pagination) up to max items
  const out = [];
  let after = null;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api('GET', `${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    out.push(...(r.items || []));
    if (!r.next || out.length >= max) return out;
    after = r.next;
  }
}
