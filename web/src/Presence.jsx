import React from 'react';
import { useAgora } from './context.js';

export default function Presence({ userId }) {
  const { presence, me } = useAgora();
  const online = String(userId) === String(me.id) ? true : presence[String(userId)] === 'online';
  return (
    <span
      className={`dot ${online ? 'online' : 'offline'}`}
      role="img"
      aria-label={online ? 'online' : 'offline'}
      title={online ? 'online' : 'offline'}
    />
  );
}
