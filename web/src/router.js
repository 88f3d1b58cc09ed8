// A tiny router over the History API; Apache falls back to index.html for
// unknown paths, so a reload on /c/45 lands here again.
import { useEffect, useState } from 'react';

const subs = new Set();

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  subs.forEach((fn) => fn());
}

export function useLocation() {
  const [loc, setLoc] = useState(() => ({ path: location.pathname, search: location.search }));
  useEffect(() => {
    const update = () => setLoc({ path: location.pathname, search: location.search });
    subs.add(update);
    window.addEventListener('popstate', update);
    return () => {
      subs.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

export function matchRoute(path) {
  let m;
  if ((m = path.match(/^\/c\/([0-9]+)\/?$/))) return { name: 'channel', id: m[1] };
  if ((m = path.match(/^\/dm\/([0-9]+)\/?$/))) return { name: 'dm', id: m[1] };
  if (path === '/browse') return { name: 'browse' };
  if (path === '/search') return { name: 'search' };
  if (path === '/notifications') return { name: 'notifications' };
  return { name: 'home' };
}

/** onClick for <a href>: client-side navigation for plain left clicks */
export function linkClick(e, to) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
