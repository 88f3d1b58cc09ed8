import React, { useEffect, useRef, useState } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client';
import { displayName } from './api.js';
import {
  CREATE_COMMENT,
  CREATE_REPLY,
  DELETE_COMMENT,
  DELETE_REPLY,
  EDIT_COMMENT,
  EDIT_REPLY,
  POST,
  POST_COMMENTS,
} from './queries.js';
import { insertComment, insertReply, removeComment, removeReply } from './cacheOps.js';
import { useAgora } from './context.js';
import { Attachments, EditDelete, ReactionBar } from './Social.jsx';
import Body, { Time } from './Body.jsx';
import Composer from './Composer.jsx';
import { Author } from './Author.jsx';

function ReplyItem({ reply, comment, canPost, canManage }) {
  const client = useApolloClient();
  const { me } = useAgora();
  const [edit] = useMutation(EDIT_REPLY);
  const [del] = useMutation(DELETE_REPLY);
  const mine = String(reply.author.id) === String(me.id);
  return (
    <li className="reply" aria-label={`${displayName(reply.author)}: ${reply.body.slice(0, 80)}`}>
      <div className="meta">
        <Author user={reply.author} /> <Time iso={reply.createdAt} />
        {reply.editedAt && <span className="muted"> (edited)</span>}
      </div>
      <Body text={reply.body} />
      <ReactionBar typename="Reply" target={reply} canReact={canPost} />
      <EditDelete
        what="reply"
        body={reply.body}
        canEdit={mine}
        canDelete={mine || canManage}
        onEdit={(body) => edit({ variables: { id: reply.id, body } })}
        onDelete={async () => {
          await del({ variables: { id: reply.id } });
          removeReply(client, comment.id, reply.id);
        }}
      />
    </li>
  );
}

function CommentItem({ comment, postId, canPost, canManage }) {
  const client = useApolloClient();
  const { me } = useAgora();
  const [replying, setReplying] = useState(false);
  const [createReply] = useMutation(CREATE_REPLY);
  const [edit] = useMutation(EDIT_COMMENT);
  const [del] = useMutation(DELETE_COMMENT);
  const mine = String(comment.author.id) === String(me.id);
  const replies = (comment.replies && comment.replies.edges.map((e) => e.node)) || [];
  return (
    <li className="comment" aria-label={`${displayName(comment.author)}: ${comment.body.slice(0, 80)}`}>
      <div className="meta">
        <Author user={comment.author} /> <Time iso={comment.createdAt} />
        {comment.editedAt && <span className="muted"> (edited)</span>}
      </div>
      <Body text={comment.body} />
      <ReactionBar typename="Comment" target={comment} canReact={canPost} />
      <EditDelete
        what="comment"
        body={comment.body}
        canEdit={mine}
        canDelete={mine || canManage}
        onEdit={(body) => edit({ variables: { id: comment.id, body } })}
        onDelete={async () => {
          await del({ variables: { id: comment.id } });
          removeComment(client, postId, comment.id);
        }}
      />
      {canPost && (
        <button type="button" className="link" aria-expanded={replying} onClick={() => setReplying(!replying)}>
          Reply
        </button>
      )}
      {replies.length > 0 && (
        <ul className="replies" aria-label={`Replies to ${displayName(comment.author)}`}>
          {replies.map((r) => (
            <ReplyItem key={r.id} reply={r} comment={comment} canPost={canPost} canManage={canManage} />
          ))}
        </ul>
      )}
      {replying && (
        <Composer
          label={`Reply to ${displayName(comment.author)}`}
          buttonText="Add reply"
          autoFocus
          className="small"
          onSend={async (body) => {
            const r = await createReply({ variables: { commentId: comment.id, body } });
            if (r.data && r.data.createReply) insertReply(client, comment.id, r.data.createReply);
            setReplying(false);
          }}
        />
      )}
    </li>
  );
}

export default function Thread({ postId, canPost, canManage, onClose }) {
  const client = useApolloClient();
  const post = useQuery(POST, { variables: { id: postId } });
  const { data, error, loading } = useQuery(POST_COMMENTS, { variables: { id: postId, first: 30 } });
  const [createComment] = useMutation(CREATE_COMMENT);
  const closeRef = useRef(null);
  useEffect(() => {
    const onKey = (e) => e.key === 'Escape' && onClose();
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  const p = post.data && post.data.post;
  const comments = (data && data.post && data.post.comments.edges.map((e) => e.node)) || [];
  return (
    <aside className="side-panel thread" aria-label="Thread">
      <div className="side-head">
        <h3>Thread</h3>
        <button type="button" ref={closeRef} className="icon" aria-label="Close thread" onClick={onClose}>
          ×
        </button>
      </div>
      {p && (
        <div className="thread-post">
          <div className="meta">
            <Author user={p.author} /> <Time iso={p.createdAt} />
          </div>
          <Body text={p.body} />
          <Attachments items={p.attachments} />
        </div>
      )}
      {error && !data && (
        <p role="alert" className="error">
          {error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading comments…</p>}
      <ul className="comments" aria-label="Comments">
        {comments.map((c) => (
          <CommentItem key={c.id} comment={c} postId={postId} canPost={canPost} canManage={canManage} />
        ))}
      </ul>
      {canPost && (
        <Composer
          label="Comment"
          buttonText="Add comment"
          autoFocus
          className="small"
          onSend={async (body) => {
            const r = await createComment({ variables: { postId, body } });
            if (r.data && r.data.createComment) insertComment(client, postId, r.data.createComment);
          }}
        />
      )}
    </aside>
  );
}
