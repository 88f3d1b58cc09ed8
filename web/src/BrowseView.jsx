import React, { useEffect, useState } from 'react';
import { api, listAll } from './api.js';
import { useAgora } from './context.js';
import { linkClick } from './router.js';

export default function BrowseView() {
  const { me, channels, refreshChannels } = useAgora();
  const [all, setAll] = useState(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const mine = new Set((channels || []).map((c) => String(c.id)));

  const load = async () => {
    try {
      const items = await listAll('/channels');
      items.sort((a, b) => a.name.localeCompare(b.name));
      setAll(items);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => {
    load();
  }, []);

  const join = async (c) => {
    try {
      await api('PUT', `/channels/${c.id}/members/${me.id}`, {});
      await refreshChannels();
      load();
    } catch (e) {
      setError(e.message);
    }
  };
  const leave = async (c) => {
    try {
      await api('DELETE', `/channels/${c.id}/members/${me.id}`);
      await refreshChannels();
      load();
    } catch (e) {
      setError(e.message);
    }
  };

  const shown = (all || []).filter((c) => !filter || c.name.toLowerCase().includes(filter.toLowerCase()));
  return (
    <section className="panel" aria-labelledby="browse-title">
      <h2 id="browse-title">Browse channels</h2>
      <label className="inline">
        Filter channels
        <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {all === null && !error && <p className="muted">Loading…</p>}
      <ul className="browse-list" aria-label="All channels">
        {shown.map((c) => (
          <li key={c.id}>
            <div>
              <a href={`/c/${c.id}`} onClick={(e) => linkClick(e, `/c/${c.id}`)}>
                {c.visibility === 'private' ? '🔒 ' : '# '}
                {c.name}
              </a>
              {c.topic && <span className="muted"> — {c.topic}</span>}
              <span className="muted small">
                {' '}
                · {c.memberCount} {c.memberCount === 1 ? 'member' : 'members'}
              </span>
            </div>
            {mine.has(String(c.id)) ? (
              <button type="button" className="secondary" onClick={() => leave(c)} aria-label={`Leave ${c.name}`}>
                Leave
              </button>
            ) : (
              <button type="button" onClick={() => join(c)} aria-label={`Join ${c.name}`}>
                Join
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
