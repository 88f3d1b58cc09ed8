import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client';
import { api, displayName, getUser } from './api.js';
import { useAgora } from './context.js';
import { DELETE_DM, DIRECT_MESSAGES, EDIT_DM, SEND_DM } from './queries.js';
import { insertDM, removeDM } from './cacheOps.js';
import { Attachments, EditDelete, ReactionBar } from './Social.jsx';
import { useInfiniteList } from './useInfiniteList.js';
import Body, { Time } from './Body.jsx';
import Composer from './Composer.jsx';
import Presence from './Presence.jsx';

const PAGE = 20;

export default function DMView({ userId }) {
  const client = useApolloClient();
  const { me, addDmPeer, blocked, setBlock } = useAgora();
  const isBlocked = blocked.has(String(userId));
  const [user, setUser] = useState(null);
  const [error, setError] = useState('');
  const [followed, setFollowed] = useState(false);
  const [sendDM] = useMutation(SEND_DM);
  const [editDM] = useMutation(EDIT_DM);
  const [deleteDM] = useMutation(DELETE_DM);

  useEffect(() => {
    let live = true;
    getUser(userId)
      .then((u) => live && setUser(u))
      .catch((e) => live && setError(e.status === 404 ? 'No such user.' : e.message));
    return () => {
      live = false;
    };
  }, [userId]);

  const { data, error: qError, loading, fetchMore, networkStatus } = useQuery(DIRECT_MESSAGES, {
    variables: { withUserId: userId, first: PAGE },
    notifyOnNetworkStatusChange: true,
    skip: String(userId) === String(me.id),
  });
  const conn = data && data.directMessages;
  const msgs = useMemo(() => (conn ? [...conn.edges].map((e) => e.node).reverse() : []), [conn]);
  const hasMore = !!(conn && conn.pageInfo.hasNextPage);
  const fetchingMore = networkStatus === 3;
  const loadMore = useCallback(() => {
    if (!conn || !conn.pageInfo.hasNextPage || fetchingMore) return;
    fetchMore({ variables: { withUserId: userId, first: PAGE, after: conn.pageInfo.endCursor } }).catch(() => {});
  }, [conn, fetchMore, userId, fetchingMore]);
  const scrollRef = useRef(null);
  const sentinelRef = useRef(null);
  const { onScroll } = useInfiniteList({ scrollRef, sentinelRef, items: msgs, hasMore, loadMore, loading: fetchingMore });

  const toggleBlock = async () => {
    setError('');
    try {
      await setBlock(userId, !isBlocked);
    } catch (e) {
      setError(e.message);
    }
  };

  const follow = async () => {
    try {
      if (followed) await api('DELETE', `/users/${userId}/follow`);
      else await api('PUT', `/users/${userId}/follow`);
      setFollowed(!followed);
    } catch (e) {
      setError(e.message);
    }
  };

  if (error && !user)
    return (
      <section className="panel">
        <p role="alert" className="error">
          {error}
        </p>
      </section>
    );

  const name = user ? displayName(user) : '…';
  return (
    <div className="channel">
      <section className="chat" aria-labelledby="dm-title">
        <div className="chat-head">
          <div>
            <h2 id="dm-title">
              <Presence userId={userId} /> {name}
            </h2>
            {user && <p className="topic muted">@{user.username}{user.bio ? ` — ${user.bio}` : ''}</p>}
          </div>
          <div className="row">
            <button type="button" className="secondary" aria-pressed={followed} onClick={follow}>
              {followed ? 'Unfollow' : 'Follow'}
            </button>
            <button type="button" className={isBlocked ? 'secondary' : 'secondary danger'} aria-pressed={isBlocked} onClick={toggleBlock}>
              {isBlocked ? 'Unblock' : 'Block'}
            </button>
          </div>
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {isBlocked ? (
          <p className="muted blocked-note" role="note">
            You blocked {name}: their messages are hidden and neither of you can message the other. They
            make no notifications for you.
          </p>
        ) : (
        <div className="scroll" ref={scrollRef} onScroll={onScroll}>
          <div ref={sentinelRef} className="sentinel" />
          {hasMore && (
            <button type="button" className="link load-more" onClick={loadMore} disabled={fetchingMore}>
              {fetchingMore ? 'Loading…' : 'Load older messages'}
            </button>
          )}
          {qError && !data && (
            <p role="alert" className="error">
              {qError.message}
            </p>
          )}
          {loading && !data && <p className="muted">Loading messages…</p>}
          {data && !msgs.length && <p className="muted empty">No messages yet.</p>}
          <ul aria-label="Messages" className="messages">
            {msgs.map((m) => (
              <li key={m.id} className={`post dm${String(m.from.id) === String(me.id) ? ' mine' : ''}`} aria-label={`${displayName(m.from)}: ${m.body.slice(0, 80)}`}>
                <div className="meta">
                  <strong>{displayName(m.from)}</strong> <Time iso={m.createdAt} />
                  {m.editedAt && <span className="muted"> (edited)</span>}
                </div>
                <Body text={m.body} />
                <Attachments items={m.attachments} />
                <ReactionBar typename="DirectMessage" target={m} />
                {String(m.from.id) === String(me.id) && (
                  <EditDelete
                    what="message"
                    body={m.body}
                    canEdit
                    canDelete
                    onEdit={(body) => editDM({ variables: { id: m.id, body } })}
                    onDelete={async () => {
                      await deleteDM({ variables: { id: m.id } });
                      removeDM(client, m.id);
                    }}
                  />
                )}
              </li>
            ))}
          </ul>
        </div>
        )}
        <div className="typing" aria-hidden="true" />
        {!isBlocked && (
        <Composer
          label="Message"
          placeholder={`Message ${name}`}
          allowFiles
          onSend={async (body, attachmentIds) => {
            const r = await sendDM({ variables: { toUserId: userId, body, attachmentIds: attachmentIds && attachmentIds.length ? attachmentIds : null } });
            if (r.data && r.data.sendDirectMessage) insertDM(client, userId, r.data.sendDirectMessage);
            addDmPeer(userId);
          }}
        />
        )}
      </section>
    </div>
  );
}
