import React, { useEffect, useRef, useState } from 'react';
import { useApolloClient } from '@apollo/client';
import { displayName, putAvatar, storeSession } from './api.js';
import { USER_FIELDS } from './queries.js';
import { useAgora } from './context.js';
import { linkClick, navigate } from './router.js';
import { NotificationList } from './NotificationsView.jsx';

const CONN_TEXT = { open: 'Connected', connecting: 'Connecting…', reconnecting: 'Reconnecting…', closed: 'Offline', idle: '' };

export default function Header() {
  const { me, conn, notifications, markNotificationsRead, onSignOut, navOpen, setNavOpen } = useAgora();
  const [q, setQ] = useState(() => new URLSearchParams(location.search).get('q') || '');
  const [open, setOpen] = useState(false);
  const panelRef = useRef(null);
  const btnRef = useRef(null);
  const unreadCount = notifications.filter((n) => !n.read).length;
  const client = useApolloClient();
  const [avatar, setAvatar] = useState(me.avatarUrl || null);
  const [avatarError, setAvatarError] = useState('');
  const avatarInput = useRef(null);
  const changeAvatar = async (file) => {
    setAvatarError('');
    try {
      const u = await putAvatar(file);
      setAvatar(u.avatarUrl);
      storeSession(u, null);
      client.writeFragment({
        id: client.cache.identify({ __typename: 'User', id: String(u.id) }),
        fragment: USER_FIELDS,
        data: { __typename: 'User', id: String(u.id), username: u.username, displayName: u.displayName ?? null, avatarUrl: u.avatarUrl },
      });
    } catch (e) {
      setAvatarError(e.message);
    }
  };

  useEffect(() => {
    if (!open) return undefined;
    const onKey = (e) => {
      if (e.key === 'Escape') {
        setOpen(false);
        btnRef.current && btnRef.current.focus();
      }
    };
    const onClick = (e) => {
      if (panelRef.current && !panelRef.current.contains(e.target) && !btnRef.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
  }, [open]);

  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next) markNotificationsRead();
  };

  return (
    <header className="topbar">
      <button
        type="button"
        className="icon menu-toggle"
        aria-label="Menu"
        aria-expanded={navOpen}
        aria-controls="sidebar"
        onClick={() => setNavOpen(!navOpen)}
      >
        ☰
      </button>
      <a className="brand" href="/" onClick={(e) => linkClick(e, '/')}>
        Agora
      </a>
      <form
        role="search"
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) navigate(`/search?q=${encodeURIComponent(q.trim())}`);
        }}
      >
        <input type="search" aria-label="Search" placeholder="Search posts" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      <div role="status" data-testid="connection" className={`conn conn-${conn}`}>
        {conn !== 'open' && CONN_TEXT[conn]}
      </div>
      <div className="notif-wrap">
        <button
          type="button"
          ref={btnRef}
          className="notif-btn secondary"
          aria-expanded={open}
          aria-controls="notif-panel"
          onClick={toggle}
        >
          Notifications <span className={`badge${unreadCount ? '' : ' zero'}`}>{unreadCount}</span>
        </button>
        {open && (
          <div id="notif-panel" ref={panelRef} className="popover" role="region" aria-label="Notification list">
            <NotificationList items={notifications} onPick={() => setOpen(false)} />
            <a
              href="/notifications"
              onClick={(e) => {
                setOpen(false);
                linkClick(e, '/notifications');
              }}
            >
              All notifications
            </a>
          </div>
        )}
      </div>
      <input ref={avatarInput} type="file" accept="image/*" hidden aria-label="Avatar file" onChange={(e) => { if (e.target.files[0]) changeAvatar(e.target.files[0]); e.target.value = ''; }} />
      <button type="button" className="avatar-btn" aria-label="Change avatar" title="Change your picture" onClick={() => avatarInput.current && avatarInput.current.click()}>
        {avatar ? <img className="avatar" src={avatar} alt="your avatar" /> : <span className="avatar none" aria-hidden="true">{displayName(me).slice(0, 1)}</span>}
      </button>
      {avatarError && <span role="alert" className="error">{avatarError}</span>}
      <span className="me" title={`@${me.username}`}>
        {displayName(me)}
      </span>
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
