import React, { useCallback, useEffect, useState } from 'react';
import { api, displayName, listAll } from './api.js';
import { useAgora } from './context.js';
import Presence from './Presence.jsx';
import UserPicker from './UserPicker.jsx';

export default function MembersPanel({ channel, isOwner, onClose, onChanged }) {
  const { me, membersVersion } = useAgora();
  const [members, setMembers] = useState(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    try {
      setMembers(await listAll(`/channels/${channel.id}/members`));
      setError('');
    } catch (e) {
      setError(e.message);
    }
  }, [channel.id]);

  useEffect(() => {
    load();
  }, [load, membersVersion]);

  const add = async (u) => {
    setError('');
    try {
      await api('PUT', `/channels/${channel.id}/members/${u.id}`, {});
      await load();
      onChanged && onChanged();
    } catch (e) {
      setError(e.message);
    }
  };
  const remove = async (m) => {
    setError('');
    try {
      await api('DELETE', `/channels/${channel.id}/members/${m.userId}`);
      await load();
      onChanged && onChanged();
    } catch (e) {
      setError(e.message);
    }
  };
  const setRole = async (m, role) => {
    try {
      await api('PUT', `/channels/${channel.id}/members/${m.userId}`, { role });
      await load();
    } catch (e) {
      setError(e.message);
    }
  };

  return (
    <aside className="side-panel members" aria-label="Members">
      <div className="side-head">
        <h3>Members</h3>
        <button type="button" className="icon" aria-label="Close members" onClick={onClose}>
          ×
        </button>
      </div>
      {isOwner && (
        <UserPicker label="Add member" buttonText="Add" exclude={(members || []).map((m) => String(m.userId))} onPick={add} />
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {members === null && !error && <p className="muted">Loading…</p>}
      <ul className="member-list" aria-label="Channel members">
        {(members || []).map((m) => (
          <li key={m.userId}>
            <Presence userId={m.userId} /> <span>{displayName(m)}</span> <span className="muted">@{m.username}</span>
            {m.role !== 'member' && <span className="role">{m.role}</span>}
            {isOwner && String(m.userId) !== String(me.id) && m.role !== 'owner' && (
              <span className="member-actions">
                {m.role === 'member' ? (
                  <button type="button" className="link" onClick={() => setRole(m, 'admin')} aria-label={`Make ${m.username} an admin`}>
                    Make admin
                  </button>
                ) : (
                  <button type="button" className="link" onClick={() => setRole(m, 'member')} aria-label={`Make ${m.username} a member`}>
                    Make member
                  </button>
                )}
                <button type="button" className="link danger" onClick={() => remove(m)} aria-label={`Remove ${m.username}`}>
                  Remove
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
