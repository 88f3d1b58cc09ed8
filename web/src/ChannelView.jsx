import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client';
import { api, displayName, getUser } from './api.js';
import { useAgora } from './context.js';
import { linkClick, navigate } from './router.js';
import { CHANNEL_POSTS, CREATE_POST, DELETE_POST } from './queries.js';
import { insertPost, removePost } from './cacheOps.js';
import { useInfiniteList } from './useInfiniteList.js';
import Body, { Time } from './Body.jsx';
import Composer from './Composer.jsx';
import { Author } from './Author.jsx';
import Thread from './Thread.jsx';
import MembersPanel from './MembersPanel.jsx';
import { Attachments, ReactionBar } from './Social.jsx';

const PAGE = 20;

function TypingIndicator({ channelId }) {
  const { typing } = useAgora();
  const ids = Object.keys(typing[channelId] || {});
  const [names, setNames] = useState({});
  useEffect(() => {
    let live = true;
    ids.forEach((id) => {
      if (names[id]) return;
      getUser(id)
        .then((u) => live && setNames((n) => ({ ...n, [id]: displayName(u) })))
        .catch(() => {});
    });
    return () => {
      live = false;
    };
  }, [ids.join(',')]);
  const who = ids.map((id) => names[id]).filter(Boolean);
  let text = '';
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = 'Several people are typing…';
  return (
    <div role="status" data-testid="typing" className="typing">
      {text}
    </div>
  );
}

function PostItem({ post, canDelete, canReact, open, onToggle }) {
  const client = useApolloClient();
  const [del] = useMutation(DELETE_POST);
  return (
    <li className={`post${open ? ' open' : ''}`} aria-label={`${displayName(post.author)}: ${post.body.slice(0, 80)}`}>
      <div className="meta">
        <Author user={post.author} /> <Time iso={post.createdAt} />
        {post.editedAt && <span className="muted"> (edited)</span>}
      </div>
      <Body text={post.body} />
      <Attachments items={post.attachments} />
      <ReactionBar typename="Post" target={post} canReact={canReact} />
      <div className="actions">
        <button type="button" className="link" aria-expanded={open} onClick={onToggle}>
          Reply
        </button>
        {post.commentCount > 0 && (
          <span className="muted count">
            {post.commentCount} {post.commentCount === 1 ? 'comment' : 'comments'}
          </span>
        )}
        {canDelete && (
          <button
            type="button"
            className="link danger"
            onClick={async () => {
              if (!window.confirm('Delete this post?')) return;
              await del({ variables: { id: post.id } });
              removePost(client, post.id);
            }}
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

function PostList({ channelId, canPost, isOwner, threadId, setThreadId }) {
  const { me } = useAgora();
  const { data, error, loading, fetchMore, networkStatus } = useQuery(CHANNEL_POSTS, {
    variables: { channelId, first: PAGE },
    notifyOnNetworkStatusChange: true,
  });
  const conn = data && data.channelPosts;
  const posts = useMemo(() => (conn ? [...conn.edges].map((e) => e.node).reverse() : []), [conn]);
  const hasMore = !!(conn && conn.pageInfo.hasNextPage);
  const fetchingMore = networkStatus === 3;
  const loadMore = useCallback(() => {
    if (!conn || !conn.pageInfo.hasNextPage || fetchingMore) return;
    fetchMore({ variables: { channelId, first: PAGE, after: conn.pageInfo.endCursor } }).catch(() => {});
  }, [conn, fetchMore, channelId, fetchingMore]);
  const scrollRef = useRef(null);
  const sentinelRef = useRef(null);
  const { onScroll } = useInfiniteList({ scrollRef, sentinelRef, items: posts, hasMore, loadMore, loading: fetchingMore });

  return (
    <div className="scroll" ref={scrollRef} onScroll={onScroll}>
      <div ref={sentinelRef} className="sentinel" />
      {hasMore && (
        <button type="button" className="link load-more" onClick={loadMore} disabled={fetchingMore}>
          {fetchingMore ? 'Loading…' : 'Load older messages'}
        </button>
      )}
      {error && !data && (
        <p role="alert" className="error">
          {error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading messages…</p>}
      {data && !posts.length && <p className="muted empty">No messages yet. {canPost ? 'Say hello!' : ''}</p>}
      <ul aria-label="Messages" className="messages">
        {posts.map((p) => (
          <PostItem
            key={p.id}
            post={p}
            canDelete={String(p.author.id) === String(me.id) || isOwner}
            canReact={canPost}
            open={threadId === p.id}
            onToggle={() => setThreadId(threadId === p.id ? null : p.id)}
          />
        ))}
      </ul>
    </div>
  );
}

const LEVELS = [
  ['all', 'Everything'],
  ['mentions', 'Mentions only'],
  ['none', 'Nothing'],
];

/** The member's notification level of this channel (GET/PUT /channels/{id}/notifications). */
function LevelSelect({ channelId, onError }) {
  const [level, setLevel] = useState(null);
  useEffect(() => {
    let live = true;
    api('GET', `/channels/${channelId}/notifications`)
      .then((r) => live && setLevel(r.level))
      .catch(() => live && setLevel('all'));
    return () => {
      live = false;
    };
  }, [channelId]);
  if (level === null) return null;
  return (
    <label className="level">
      Notify me
      <select
        aria-label="Notifications for this channel"
        value={level}
        onChange={async (e) => {
          const want = e.target.value;
          const was = level;
          setLevel(want);
          try {
            const r = await api('PUT', `/channels/${channelId}/notifications`, { level: want });
            setLevel(r.level);
          } catch (err) {
            setLevel(was);
            onError(err.message);
          }
        }}
      >
        {LEVELS.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export default function ChannelView({ channelId }) {
  const client = useApolloClient();
  const { me, rt, channels, refreshChannels, clearTyping } = useAgora();
  const mine = (channels || []).find((c) => String(c.id) === String(channelId));
  const [fetched, setFetched] = useState(null);
  const [error, setError] = useState('');
  const [threadId, setThreadId] = useState(null);
  const [showMembers, setShowMembers] = useState(false);
  const [busy, setBusy] = useState(false);
  const lastTyping = useRef(0);
  const [createPost] = useMutation(CREATE_POST);

  const channel = mine || fetched;
  const isMember = !!mine;
  const role = mine && (mine.myRole || (String(mine.ownerId) === String(me.id) ? 'owner' : 'member'));
  const isOwner = role === 'owner' || role === 'admin';

  useEffect(() => {
    if (mine || channels === null) return;
    let live = true;
    api('GET', `/channels/${channelId}`)
      .then((c) => live && setFetched(c))
      .catch((e) => live && setError(e.status === 404 ? 'This channel does not exist, or it is private.' : e.message));
    return () => {
      live = false;
    };
  }, [channelId, mine, channels === null]);

  const join = async () => {
    setBusy(true);
    try {
      await api('PUT', `/channels/${channelId}/members/${me.id}`, {});
      await refreshChannels();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const leave = async () => {
    setBusy(true);
    try {
      await api('DELETE', `/channels/${channelId}/members/${me.id}`);
      await refreshChannels();
      if (channel && channel.visibility === 'private') navigate('/');
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  const onTyping = () => {
    const now = Date.now();
    if (now - lastTyping.current < 2000) return; // the contract's limit: once per 2 s
    lastTyping.current = now;
    rt.typing(channelId);
  };

  const send = async (body, attachmentIds) => {
    const r = await createPost({ variables: { channelId, body, attachmentIds: attachmentIds && attachmentIds.length ? attachmentIds : null } });
    if (r.data && r.data.createPost) insertPost(client, r.data.createPost);
    clearTyping(channelId, me.id);
    lastTyping.current = 0;
  };

  if (error && !channel)
    return (
      <section className="panel">
        <p role="alert" className="error">
          {error}
        </p>
      </section>
    );
  if (!channel) return <p className="muted panel">Loading…</p>;

  return (
    <div className={`channel${threadId || showMembers ? ' with-side' : ''}`}>
      <section className="chat" aria-labelledby="channel-title">
        <div className="chat-head">
          <div>
            <h2 id="channel-title">
              <span aria-hidden="true">{channel.visibility === 'private' ? '🔒 ' : '# '}</span>
              {channel.name}
            </h2>
            {channel.topic && <p className="topic muted">{channel.topic}</p>}
          </div>
          <div className="row">
            {isMember && <LevelSelect channelId={String(channelId)} onError={setError} />}
            <button
              type="button"
              className="secondary"
              aria-expanded={showMembers}
              onClick={() => {
                setShowMembers(!showMembers);
                setThreadId(null);
              }}
            >
              Members <span className="muted">{channel.memberCount}</span>
            </button>
            {isMember ? (
              <button type="button" className="secondary" onClick={leave} disabled={busy}>
                Leave
              </button>
            ) : (
              <button type="button" onClick={join} disabled={busy}>
                Join
              </button>
            )}
          </div>
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <PostList
          channelId={String(channelId)}
          canPost={isMember}
          isOwner={isOwner}
          threadId={threadId}
          setThreadId={(id) => {
            setThreadId(id);
            if (id) setShowMembers(false);
          }}
        />
        <TypingIndicator channelId={String(channelId)} />
        {isMember ? (
          <Composer label="Message" placeholder={`Message #${channel.name}`} onSend={send} onTyping={onTyping} allowFiles />
        ) : (
          <p className="join-hint muted">Join this channel to post.</p>
        )}
      </section>
      {threadId && <Thread postId={threadId} canPost={isMember} canManage={isOwner} onClose={() => setThreadId(null)} />}
      {showMembers && (
        <MembersPanel channel={channel} isOwner={isOwner} onClose={() => setShowMembers(false)} onChanged={refreshChannels} />
      )}
    </div>
  );
}
