import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApolloClient } from '@apollo/client';
import { api, forgetUser, getToken, getUser, listAll } from './api.js';
import { Realtime } from './realtime.js';
import { Agora, loadJSON, saveJSON } from './context.js';
import { matchRoute, navigate, useLocation } from './router.js';
import {
  dropChannelPosts,
  ensureComment,
  ensureDM,
  ensurePost,
  ensureReply,
  insertDM,
  insertPost,
  removePost,
  refresh,
  refreshReactions,
  removeComment,
  removeDM,
  removeReply,
} from './cacheOps.js';
import { CHANNEL_POSTS, DIRECT_MESSAGES, REACTIONS_OF, USER_FIELDS } from './queries.js';
import Header from './Header.jsx';
import Sidebar from './Sidebar.jsx';
import ChannelView from './ChannelView.jsx';
import DMView from './DMView.jsx';
import BrowseView from './BrowseView.jsx';
import SearchView from './SearchView.jsx';
import NotificationsView from './NotificationsView.jsx';

const TYPING_MS = 5000;

export default function Shell({ me, onSignOut }) {
  const client = useApolloClient();
  const loc = useLocation();
  const route = matchRoute(loc.path);
  const key = (k) => `agora.${k}.${me.id}`;

  const [channels, setChannels] = useState(null);
  const [channelsError, setChannelsError] = useState('');
  // channelId → {unread, mentions}: the server's counts (GET /channels?member=me), zeroed
  // here at once when this device reads, refetched when any device reads (read_state)
  const [counts, setCounts] = useState({});
  const [blocked, setBlocked] = useState(() => new Set());
  const [dmPeers, setDmPeers] = useState(() => loadJSON(key('dms'), []));
  const [dmUnread, setDmUnread] = useState(() => loadJSON(key('dmUnread'), {}));
  const [presence, setPresence] = useState({});
  const [typing, setTyping] = useState({});
  const [notifications, setNotifications] = useState([]);
  const [conn, setConn] = useState('connecting');
  const [membersVersion, setMembersVersion] = useState(0);
  const [navOpen, setNavOpen] = useState(false);

  const rt = useMemo(() => new Realtime(getToken), []);
  const routeRef = useRef(route);
  routeRef.current = route;
  const markReadRef = useRef(null);
  const lastSeq = useRef({}); // channelId → newest seq seen (events, or the server's lastSeq)
  const readSent = useRef({}); // channelId → the newest offset this device sent as `read`
  const blockedRef = useRef(blocked);
  blockedRef.current = blocked;

  useEffect(() => saveJSON(key('dms'), dmPeers), [dmPeers]);
  useEffect(() => saveJSON(key('dmUnread'), dmUnread), [dmUnread]);

  // ---- REST-backed state --------------------------------------------------
  const refreshTimer = useRef(null);
  const refreshChannels = useCallback(async () => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = null;
    try {
      const items = await listAll('/channels?member=me');
      items.sort((a, b) => a.name.localeCompare(b.name));
      const next = {};
      let stale = false;
      for (const c of items) {
        const cid = String(c.id);
        if ((lastSeq.current[cid] || 0) < (c.lastSeq || 0)) lastSeq.current[cid] = c.lastSeq;
        // our own `read` not applied yet when the server counted: it is, a moment later
        if ((readSent.current[cid] || 0) > (c.readSeq || 0)) {
          next[cid] = { unread: 0, mentions: 0 };
          stale = true;
        } else next[cid] = { unread: c.unread || 0, mentions: c.mentions || 0 };
      }
      setChannels(items);
      setCounts(next);
      setChannelsError('');
      if (stale) refreshTimer.current = setTimeout(() => refreshChannels(), 1000);
      // the channel on screen is read (its newest sequence may only be known now)
      const r = routeRef.current;
      if (r.name === 'channel' && document.visibilityState === 'visible' && markReadRef.current)
        markReadRef.current(r.id);
    } catch (e) {
      setChannelsError(e.message);
    }
  }, []);
  // many events in a burst: one refetch of the counts shortly after the last
  const refreshSoon = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => refreshChannels(), 150);
  }, [refreshChannels]);

  const refreshBlocked = useCallback(async () => {
    try {
      const items = await listAll('/users/me/blocks');
      setBlocked(new Set(items.map((u) => String(u.id))));
    } catch {
      /* kept as before; the next change retries */
    }
  }, []);

  const refreshNotifications = useCallback(async () => {
    try {
      const r = await api('GET', '/notifications?limit=50');
      setNotifications(r.items || []);
    } catch {
      /* shown as before; the next event retries */
    }
  }, []);

  useEffect(() => {
    refreshChannels();
    refreshNotifications();
    refreshBlocked();
    const t = setInterval(refreshChannels, 10000); // joins by others arrive as events only once subscribed
    const onFocus = () => {
      refreshChannels();
      rt.kick();
    };
    window.addEventListener('focus', onFocus);
    window.addEventListener('online', onFocus);
    return () => {
      clearInterval(t);
      clearTimeout(refreshTimer.current);
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('online', onFocus);
    };
  }, [refreshChannels, refreshNotifications, refreshBlocked, rt]);

  const addDmPeer = useCallback((uid) => {
    uid = String(uid);
    setDmPeers((p) => (p.includes(uid) ? p : [uid, ...p]));
  }, []);

  // ---- reading: `read` while a channel is on screen; the server keeps the offset ------
  const markRead = useCallback(
    (channelId) => {
      const cid = String(channelId);
      const seq = lastSeq.current[cid];
      if (seq && (readSent.current[cid] || 0) < seq && rt.read(cid, seq)) readSent.current[cid] = seq;
      setCounts((c) => (c[cid] && (c[cid].unread || c[cid].mentions) ? { ...c, [cid]: { unread: 0, mentions: 0 } } : c));
    },
    [rt],
  );
  markReadRef.current = markRead;

  useEffect(() => {
    if (route.name === 'channel') markRead(route.id);
    if (route.name === 'dm') setDmUnread((u) => (u[route.id] ? { ...u, [route.id]: 0 } : u));
    setNavOpen(false);
  }, [route.name, route.id, markRead]);

  // ---- the WebSocket -----------------------------------------------------
  useEffect(() => {
    const viewing = (cid) =>
      routeRef.current.name === 'channel' && routeRef.current.id === String(cid) && document.visibilityState === 'visible';

    const seen = (cid, seq) => {
      if (typeof seq !== 'number') return;
      cid = String(cid);
      if ((lastSeq.current[cid] || 0) < seq) lastSeq.current[cid] = seq;
    };
    // an event in a channel: read at once when on screen, else the server counts again
    const touched = (cid) => {
      if (viewing(cid)) markRead(cid);
      else refreshSoon();
    };

    const handle = async (f) => {
      switch (f.type) {
        case 'ready':
          if (f.reconnected) {
            // events may have been missed while down: catch up what is on screen
            refreshChannels();
            refreshNotifications();
            const r = routeRef.current;
            if (r.name === 'channel')
              client
                .query({ query: CHANNEL_POSTS, variables: { channelId: r.id, first: 20 }, fetchPolicy: 'network-only' })
                .catch(() => {});
            if (r.name === 'dm')
              client
                .query({ query: DIRECT_MESSAGES, variables: { withUserId: r.id, first: 20 }, fetchPolicy: 'network-only' })
                .catch(() => {});
          }
          break;
        case 'channel_message': {
          const cid = String(f.channelId);
          seen(cid, f.seq);
          const { post } = await ensurePost(client, f.messageId);
          if (post) insertPost(client, post);
          touched(cid);
          break;
        }
        case 'message_updated':
          seen(f.channelId, f.seq);
          await ensurePost(client, f.messageId, true);
          touched(String(f.channelId));
          break;
        case 'message_deleted':
          seen(f.channelId, f.seq);
          removePost(client, f.messageId);
          touched(String(f.channelId));
          break;
        case 'read_state': {
          // another device of ours read this channel up to f.seq: the server's counts say
          // what is left (the daemon tells us after the offset is stored)
          const cid = String(f.channelId);
          if ((readSent.current[cid] || 0) < f.seq) readSent.current[cid] = f.seq;
          if (f.seq >= (lastSeq.current[cid] || 0))
            setCounts((c) => (c[cid] ? { ...c, [cid]: { unread: 0, mentions: 0 } } : c));
          refreshSoon();
          break;
        }
        case 'comment_created':
          seen(f.channelId, f.seq);
          await ensureComment(client, f.postId, f.commentId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'reply_created':
          seen(f.channelId, f.seq);
          await ensureReply(client, f.commentId, f.replyId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        // issue 17: reactions, edits and deletes (ids only: refetch what is on screen)
        case 'reaction':
          if (f.channelId) seen(f.channelId, f.seq);
          await refreshReactions(client, f.targetId, REACTIONS_OF);
          if (f.from) rt.ack('dm', f.seq);
          else if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'comment_updated':
        case 'reply_updated':
          seen(f.channelId, f.seq);
          await refresh(client, f.type === 'comment_updated' ? 'Comment' : 'Reply', f.type === 'comment_updated' ? f.commentId : f.replyId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'comment_deleted':
          seen(f.channelId, f.seq);
          removeComment(client, f.postId, f.commentId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'reply_deleted':
          seen(f.channelId, f.seq);
          removeReply(client, f.commentId, f.replyId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'dm_updated':
          await refresh(client, 'DirectMessage', f.messageId);
          rt.ack('dm', f.seq);
          break;
        case 'dm_deleted':
          removeDM(client, f.messageId);
          rt.ack('dm', f.seq);
          break;
        case 'gap':
          // the stream no longer holds these events: refetch over GraphQL
          seen(f.channelId, f.toSeq);
          dropChannelPosts(client, f.channelId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'user_typing': {
          if (String(f.userId) === String(me.id)) break;
          getUser(f.userId).catch(() => {});
          const until = Date.now() + TYPING_MS;
          setTyping((t) => ({ ...t, [f.channelId]: { ...(t[f.channelId] || {}), [f.userId]: until } }));
          break;
        }
        case 'presence':
          setPresence((p) => ({ ...p, [f.userId]: f.status }));
          break;
        case 'dm': {
          rt.ack('dm', f.seq); // at once: an unacked event comes again on the next connection
          if (blockedRef.current.has(String(f.from))) break; // hidden: you blocked them
          const dm = await ensureDM(client, f.messageId);
          if (dm) {
            const other = String(dm.from.id) === String(me.id) ? dm.to.id : dm.from.id;
            insertDM(client, other, dm);
            addDmPeer(other);
            const r = routeRef.current;
            if (!(r.name === 'dm' && r.id === String(other)) && String(dm.from.id) !== String(me.id))
              setDmUnread((u) => ({ ...u, [other]: (u[other] || 0) + 1 }));
          }
          break;
        }
        case 'notification':
          rt.ack('notify', f.seq); // at once: the daemon keeps it pending until one device acks
          await refreshNotifications();
          break;
        case 'channel_updated':
          refreshChannels();
          setMembersVersion((v) => v + 1);
          break;
        case 'member_joined':
        case 'member_left':
          if (String(f.userId) === String(me.id)) refreshChannels();
          else {
            setMembersVersion((v) => v + 1);
            setChannels((cs) =>
              cs
                ? cs.map((c) =>
                    String(c.id) === String(f.channelId)
                      ? { ...c, memberCount: Math.max(0, (c.memberCount || 0) + (f.type === 'member_joined' ? 1 : -1)) }
                      : c,
                  )
                : cs,
            );
          }
          break;
        case 'user_updated':
          forgetUser(f.userId);
          getUser(f.userId)
            .then((u) =>
              client.writeFragment({
                id: client.cache.identify({ __typename: 'User', id: String(u.id) }),
                fragment: USER_FIELDS,
                data: { __typename: 'User', id: String(u.id), username: u.username, displayName: u.displayName ?? null, avatarUrl: u.avatarUrl ?? null },
              }),
            )
            .catch(() => {});
          break;
        case 'error':
          console.warn('realtime error', f.code, f.message);
          break;
        default:
          break;
      }
    };

    const off = rt.on((f) => {
      handle(f).catch((e) => console.warn('realtime event not applied', f.type, e && e.message));
    });
    const offState = rt.onState(setConn);
    rt.start();
    const onVisible = () => {
      if (document.visibilityState === 'visible' && routeRef.current.name === 'channel') markRead(routeRef.current.id);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      off();
      offState();
      rt.stop();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [client, rt, me.id, refreshChannels, refreshSoon, refreshNotifications, markRead, addDmPeer]);

  // expire typing entries
  useEffect(() => {
    const t = setInterval(() => {
      const now = Date.now();
      setTyping((cur) => {
        let changed = false;
        const next = {};
        for (const [cid, users] of Object.entries(cur)) {
          const keep = {};
          for (const [uid, until] of Object.entries(users)) {
            if (until > now) keep[uid] = until;
            else changed = true;
          }
          if (Object.keys(keep).length) next[cid] = keep;
        }
        return changed ? next : cur;
      });
    }, 1000);
    return () => clearInterval(t);
  }, []);

  // a typist whose post arrived stops typing
  const clearTyping = useCallback((cid, uid) => {
    setTyping((t) => {
      if (!t[cid] || !t[cid][uid]) return t;
      const users = { ...t[cid] };
      delete users[uid];
      return { ...t, [cid]: users };
    });
  }, []);

  const markNotificationsRead = useCallback(async () => {
    const unreadItems = notifications.filter((n) => !n.read);
    if (!unreadItems.length) return;
    const upTo = unreadItems.map((n) => n.id).reduce((a, b) => (BigInt(a) > BigInt(b) ? a : b));
    setNotifications((ns) => ns.map((n) => (BigInt(n.id) <= BigInt(upTo) ? { ...n, read: true } : n)));
    try {
      await api('POST', '/notifications/read', { upTo });
    } catch {
      refreshNotifications();
    }
  }, [notifications, refreshNotifications]);

  const setBlock = useCallback(
    async (userId, on) => {
      await api(on ? 'PUT' : 'DELETE', `/users/${userId}/block`);
      setBlocked((b) => {
        const n = new Set(b);
        if (on) n.add(String(userId));
        else n.delete(String(userId));
        return n;
      });
      refreshBlocked();
    },
    [refreshBlocked],
  );

  const ctx = {
    me,
    rt,
    conn,
    channels,
    channelsError,
    refreshChannels,
    counts,
    blocked,
    setBlock,
    presence,
    typing,
    clearTyping,
    dmPeers,
    dmUnread,
    addDmPeer,
    notifications,
    refreshNotifications,
    markNotificationsRead,
    membersVersion,
    markRead,
    navOpen,
    setNavOpen,
    onSignOut,
  };

  let view;
  if (route.name === 'channel') view = <ChannelView key={route.id} channelId={route.id} />;
  else if (route.name === 'dm') view = <DMView key={route.id} userId={route.id} />;
  else if (route.name === 'browse') view = <BrowseView />;
  else if (route.name === 'search') view = <SearchView query={new URLSearchParams(loc.search).get('q') || ''} />;
  else if (route.name === 'notifications') view = <NotificationsView />;
  else view = <Home />;

  return (
    <Agora.Provider value={ctx}>
      <div className={`shell${navOpen ? ' nav-open' : ''}`}>
        <Header />
        <Sidebar route={route} />
        <main className="content" id="main">
          {view}
        </main>
      </div>
    </Agora.Provider>
  );
}

function Home() {
  return (
    <section className="home" aria-labelledby="home-title">
      <h2 id="home-title">Welcome to Agora</h2>
      <p className="muted">Pick a channel on the left, start one with “New channel”, or browse the public ones.</p>
      <p>
        <a
          href="/browse"
          onClick={(e) => {
            e.preventDefault();
            navigate('/browse');
          }}
        >
          Browse channels
        </a>
      </p>
    </section>
  );
}
