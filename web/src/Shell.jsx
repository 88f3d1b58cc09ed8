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
  const [unread, setUnread] = useState(() => loadJSON(key('unread'), {}));
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
  const lastSeq = useRef(loadJSON(key('lastSeq'), {})); // channelId → newest seq seen
  const readSeq = useRef(loadJSON(key('readSeq'), {})); // channelId → newest seq read

  useEffect(() => saveJSON(key('unread'), unread), [unread]);
  useEffect(() => saveJSON(key('dms'), dmPeers), [dmPeers]);
  useEffect(() => saveJSON(key('dmUnread'), dmUnread), [dmUnread]);

  // ---- REST-backed state --------------------------------------------------
  const refreshChannels = useCallback(async () => {
    try {
      const items = await listAll('/channels?member=me');
      items.sort((a, b) => a.name.localeCompare(b.name));
      setChannels(items);
      setChannelsError('');
    } catch (e) {
      setChannelsError(e.message);
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
    const t = setInterval(refreshChannels, 10000); // joins by others arrive as events only once subscribed
    const onFocus = () => {
      refreshChannels();
      rt.kick();
    };
    window.addEventListener('focus', onFocus);
    window.addEventListener('online', onFocus);
    return () => {
      clearInterval(t);
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('online', onFocus);
    };
  }, [refreshChannels, refreshNotifications, rt]);

  const addDmPeer = useCallback((uid) => {
    uid = String(uid);
    setDmPeers((p) => (p.includes(uid) ? p : [uid, ...p]));
  }, []);

  // ---- reading: `read` acks while a channel is on screen -----------------------
  const markRead = useCallback(
    (channelId) => {
      const cid = String(channelId);
      const seq = lastSeq.current[cid];
      if (seq && (readSeq.current[cid] || 0) < seq && rt.read(cid, seq)) {
        readSeq.current[cid] = seq;
        saveJSON(key('readSeq'), readSeq.current);
      }
      setUnread((u) => (u[cid] ? { ...u, [cid]: 0 } : u));
    },
    [rt],
  );

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
      if ((lastSeq.current[cid] || 0) < seq) {
        lastSeq.current[cid] = seq;
        saveJSON(key('lastSeq'), lastSeq.current);
      }
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
          if (viewing(cid)) markRead(cid);
          else if (post && post.author && String(post.author.id) !== String(me.id) && (readSeq.current[cid] || 0) < (f.seq || Infinity))
            setUnread((u) => ({ ...u, [cid]: (u[cid] || 0) + 1 }));
          break;
        }
        case 'message_updated':
          seen(f.channelId, f.seq);
          await ensurePost(client, f.messageId, true);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
        case 'message_deleted':
          seen(f.channelId, f.seq);
          removePost(client, f.messageId);
          if (viewing(f.channelId)) markRead(f.channelId);
          break;
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
          const dm = await ensureDM(client, f.messageId);
          if (dm) {
            const other = String(dm.from.id) === String(me.id) ? dm.to.id : dm.from.id;
            insertDM(client, other, dm);
            addDmPeer(other);
            const r = routeRef.current;
            if (!(r.name === 'dm' && r.id === String(other)) && String(dm.from.id) !== String(me.id))
              setDmUnread((u) => ({ ...u, [other]: (u[other] || 0) + 1 }));
          }
          rt.ack('dm', f.seq);
          break;
        }
        case 'notification':
          await refreshNotifications();
          rt.ack('notify', f.seq);
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
  }, [client, rt, me.id, refreshChannels, refreshNotifications, markRead, addDmPeer]);

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

  const ctx = {
    me,
    rt,
    conn,
    channels,
    channelsError,
    refreshChannels,
    unread,
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
