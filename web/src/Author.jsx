import React from 'react';
import { displayName } from './api.js';
import { useAgora } from './context.js';
import { linkClick } from './router.js';
import Presence from './Presence.jsx';

export function Author({ user }) {
  const { me } = useAgora();
  if (!user) return null;
  const mine = String(user.id) === String(me.id);
  return (
    <span className="author">
      <Presence userId={user.id} />{' '}
      {user.avatarUrl && <img className="avatar small" src={user.avatarUrl} alt="" />}
      {mine ? (
        <strong>{displayName(user)}</strong>
      ) : (
        <a href={`/dm/${user.id}`} className="author-link" title={`@${user.username} — send a direct message`} onClick={(e) => linkClick(e, `/dm/${user.id}`)}>
          <strong>{displayName(user)}</strong>
        </a>
      )}
    </span>
  );
}

