import React, { useEffect, useState } from 'react';
import { api, displayName, getUser } from './api.js';
import { useAgora } from './context.js';
import { linkClick, navigate } from './router.js';
import Presence from './Presence.jsx';
import UserPicker from './UserPicker.jsx';

/** ArrowUp/ArrowDown/Home/End move between the links of a list (keyboard navigation). */
function arrowNav(e) {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
  const links = [...e.currentTarget.querySelectorAll('a')];
  const i = links.indexOf(document.activeElement);
  if (i < 0 || !links.length) return;
  e.preventDefault();
  let j = i;
  if (e.key === 'ArrowDown') j = (i + 1) % links.length;
  if (e.key === 'ArrowUp') j = (i - 1 + links.length) % links.length;
  if (e.key === 'Home') j = 0;
  if (e.key === 'End') j = links.length - 1;
  links[j].focus();
}

function NewChannelForm({ onDone }) {
  const { refreshChannels } = useAgora();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [priv, setPriv] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="new-channel"
      aria-label="New channel"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          const body = { name: name.trim(), visibility: priv ? 'private' : 'public' };
          if (topic.trim()) body.topic = topic.trim();
          const ch = await api('POST', '/channels', body);
          await refreshChannels();
          onDone();
          navigate(`/c/${ch.id}`);
        } catch (err) {
          setError(err.status === 409 ? 'A channel with that name exists.' : err.message);
          setBusy(false);
        }
      }}
    >
      <label>
        Channel name
        <input required maxLength={64} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Topic
        <input maxLength={250} value={topic} onChange={(e) => setTopic(e.target.value)} />
      </label>
      <label className="check">
        <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.target.checked)} /> Private
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={busy}>
          Create
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DMLink({ userId, active, count }) {
  const [name, setName] = useState('');
  useEffect(() => {
    let live = true;
    getUser(userId)
      .then((u) => live && setName(displayName(u)))
      .catch(() => live && setName(`user ${userId}`));
    return () => {
      live = false;
    };
  }, [userId]);
  const to = `/dm/${userId}`;
  return (
    <li className={active ? 'active' : ''}>
      <a href={to} aria-current={active ? 'page' : undefined} onClick={(e) => linkClick(e, to)}>
        <Presence userId={userId} /> {name || '…'}
      </a>
      {count > 0 && (
        <span className="badge" aria-label={`${count} unread`}>
          {count}
        </span>
      )}
    </li>
  );
}

// the server stops counting at 1,000
const few = (n) => (n >= 1000 ? '999+' : String(n));

export default function Sidebar({ route }) {
  const { me, channels, channelsError, counts, blocked, dmPeers, dmUnread, addDmPeer } = useAgora();
  const [creating, setCreating] = useState(false);
  const [finding, setFinding] = useState(false);

  return (
    <aside className="sidebar" id="sidebar">
      <div className="side-actions">
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          New channel
        </button>
        <a className="browse" href="/browse" onClick={(e) => linkClick(e, '/browse')}>
          Browse channels
        </a>
      </div>
      {creating && <NewChannelForm onDone={() => setCreating(false)} />}
      <nav aria-label="Channels" onKeyDown={arrowNav}>
        <h2 className="side-title">Channels</h2>
        {channels === null && !channelsError && <p className="muted">Loading…</p>}
        {channelsError && (
          <p role="alert" className="error">
            {channelsError}
          </p>
        )}
        {channels && channels.length === 0 && <p className="muted">You are in no channel yet.</p>}
        <ul>
          {(channels || []).map((c) => {
            const active = route.name === 'channel' && route.id === String(c.id);
            const to = `/c/${c.id}`;
            // the server's counts (unread posts after your read offset, and of them those
            // that mention you), the same on every device
            const { unread: n = 0, mentions: m = 0 } = counts[String(c.id)] || {};
            return (
              <li key={c.id} className={`${active ? 'active' : ''}${n > 0 ? ' has-unread' : ''}`}>
                <a href={to} aria-current={active ? 'page' : undefined} onClick={(e) => linkClick(e, to)}>
                  <span aria-hidden="true" className="hash">
                    {c.visibility === 'private' ? '🔒' : '#'}
                  </span>
                  {c.name}
                </a>
                {(n > 0 || m > 0) && (
                  <span className="badges">
                    {m > 0 && (
                      <span className="badge mention" aria-label={`${few(m)} ${m === 1 ? 'mention' : 'mentions'}`}>
                        @{few(m)}
                      </span>
                    )}
                    {n > 0 && (
                      <span className="badge" aria-label={`${few(n)} unread`}>
                        {few(n)}
                      </span>
                    )}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </nav>
      <nav aria-label="Direct messages" onKeyDown={arrowNav}>
        <h2 className="side-title">Direct messages</h2>
        <ul>
          {dmPeers
            .filter((id) => String(id) !== String(me.id) && !blocked.has(String(id)))
            .map((id) => (
              <DMLink key={id} userId={id} active={route.name === 'dm' && route.id === String(id)} count={dmUnread[id] || 0} />
            ))}
        </ul>
      </nav>
      <button type="button" className="secondary small" aria-expanded={finding} onClick={() => setFinding(!finding)}>
        New message
      </button>
      {finding && (
        <UserPicker
          label="Find a person"
          buttonText="Open"
          autoFocus
          exclude={[String(me.id)]}
          onPick={(u) => {
            setFinding(false);
            addDmPeer(u.id);
            navigate(`/dm/${u.id}`);
          }}
        />
      )}
    </aside>
  );
}
