import React, { useEffect, useState } from 'react';
import { displayName, getUser } from './api.js';
import { useAgora } from './context.js';
import { linkClick } from './router.js';

const KIND_TEXT = {
  new_follower: 'followed you',
  mention: 'mentioned you',
  comment: 'commented on your post',
  reply: 'replied to your comment',
};

function useUserName(id) {
  const [name, setName] = useState('');
  useEffect(() => {
    let live = true;
    if (id)
      getUser(id)
        .then((u) => live && setName(displayName(u)))
        .catch(() => live && setName(`user ${id}`));
    return () => {
      live = false;
    };
  }, [id]);
  return name;
}

function NotificationItem({ n, onPick }) {
  const who = useUserName(n.actorId);
  const { channels } = useAgora();
  const ch = n.channelId && (channels || []).find((c) => String(c.id) === String(n.channelId));
  const target = n.channelId ? `/c/${n.channelId}` : n.kind === 'new_follower' ? `/dm/${n.actorId}` : null;
  const text = (
    <>
      <strong>{who || '…'}</strong> {KIND_TEXT[n.kind] || n.kind}
      {ch ? ` in #${ch.name}` : ''}
    </>
  );
  return (
    <li className={n.read ? 'read' : 'unread'}>
      {target ? (
        <a
          href={target}
          onClick={(e) => {
            onPick && onPick();
            linkClick(e, target);
          }}
        >
          {text}
        </a>
      ) : (
        text
      )}
      <time dateTime={n.createdAt}> {new Date(n.createdAt).toLocaleString()}</time>
    </li>
  );
}

export function NotificationList({ items, onPick }) {
  if (!items.length) return <p className="muted">No notifications yet.</p>;
  return (
    <ul className="notifications" aria-label="Notifications">
      {items.map((n) => (
        <NotificationItem key={n.id} n={n} onPick={onPick} />
      ))}
    </ul>
  );
}

export default function NotificationsView() {
  const { notifications, refreshNotifications, markNotificationsRead } = useAgora();
  useEffect(() => {
    refreshNotifications().then(() => {});
  }, [refreshNotifications]);
  useEffect(() => {
    markNotificationsRead();
  }, [markNotificationsRead]);
  return (
    <section className="panel" aria-labelledby="notif-title">
      <h2 id="notif-title">Notifications</h2>
      <NotificationList items={notifications} />
    </section>
  );
}
