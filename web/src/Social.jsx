// web/src/Social.jsx — reactions, attachments and the edit/delete controls
// that posts, comments, replies and DMs share (issue 17).
import React, { useEffect, useRef, useState } from 'react';
import { useApolloClient, useMutation } from '@apollo/client';
import { ADD_REACTION, REMOVE_REACTION } from './queries.js';
import Composer from './Composer.jsx';

export const PICKER = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🔥', '👀'];

/** Put a target's reactions in the cache (typename: Post, Comment, Reply, DirectMessage). */
export function writeReactions(client, typename, id, reactions) {
  client.cache.modify({
    id: client.cache.identify({ __typename: typename, id }),
    fields: { reactions: () => reactions.map((r) => ({ __typename: 'ReactionGroup', ...r })) },
  });
}

/** The emojis of a target as toggles, and a small picker to add one. */
export function ReactionBar({ typename, target, canReact = true }) {
  const client = useApolloClient();
  const [add] = useMutation(ADD_REACTION);
  const [remove] = useMutation(REMOVE_REACTION);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const groups = target.reactions || [];
  const toggle = async (emoji, mine) => {
    setOpen(false);
    setError('');
    try {
      const r = await (mine ? remove : add)({ variables: { targetId: target.id, emoji } });
      const list = r.data && (r.data.addReaction || r.data.removeReaction);
      if (list) writeReactions(client, typename, target.id, list);
    } catch (e) {
      setError(e.message);
    }
  };
  if (!groups.length && !canReact) return null;
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {groups.map((g) => (
        <button
          key={g.emoji}
          type="button"
          className={`reaction${g.reactedByMe ? ' mine' : ''}`}
          aria-pressed={g.reactedByMe}
          aria-label={`${g.emoji} ${g.count}`}
          disabled={!canReact}
          onClick={() => toggle(g.emoji, g.reactedByMe)}
        >
          {g.emoji} <span className="count">{g.count}</span>
        </button>
      ))}
      {canReact && (
        <span className="emoji-picker-wrap">
          <button type="button" className="reaction add" aria-label="Add reaction" aria-expanded={open} onClick={() => setOpen(!open)}>
            ☺+
          </button>
          {open && (
            <span role="menu" aria-label="Pick an emoji" className="emoji-picker">
              {PICKER.map((e) => (
                <button key={e} type="button" role="menuitem" aria-label={`React ${e}`} onClick={() => toggle(e, groups.some((g) => g.emoji === e && g.reactedByMe))}>
                  {e}
                </button>
              ))}
            </span>
          )}
        </span>
      )}
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </div>
  );
}

function size(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/** Thumbnails that open the full image (in a dialog), and links for other files. */
export function Attachments({ items }) {
  const [shown, setShown] = useState(null);
  const dialog = useRef(null);
  useEffect(() => {
    if (!shown) return undefined;
    const onKey = (e) => e.key === 'Escape' && setShown(null);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [shown]);
  if (!items || !items.length) return null;
  return (
    <div className="attachments">
      {items.map((a) =>
        a.thumbnailUrl ? (
          <button key={a.id} type="button" className="thumb" aria-label={`Open image ${a.width}×${a.height}`} onClick={() => setShown(a)}>
            <img src={a.thumbnailUrl} alt={`image ${a.width}×${a.height}`} loading="lazy" />
          </button>
        ) : (
          <a key={a.id} className="file" href={a.url} target="_blank" rel="noreferrer">
            📎 {a.contentType} · {size(a.size)}
          </a>
        ),
      )}
      {shown && (
        <div className="lightbox" role="dialog" aria-modal="true" aria-label="Image" ref={dialog} onClick={() => setShown(null)}>
          <img src={shown.url} alt={`full image ${shown.width}×${shown.height}`} onClick={(e) => e.stopPropagation()} />
          <button type="button" className="icon close" aria-label="Close image" onClick={() => setShown(null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/** Edit and Delete for one's own comment, reply or DM (and Delete for a channel's managers). */
export function EditDelete({ body, canEdit, canDelete, what, onEdit, onDelete }) {
  const [editing, setEditing] = useState(false);
  if (editing)
    return (
      <Composer
        label={`Edit ${what}`}
        buttonText="Save"
        initial={body}
        autoFocus
        className="small"
        onCancel={() => setEditing(false)}
        onSend={async (text) => {
          await onEdit(text);
          setEditing(false);
        }}
      />
    );
  return (
    <span className="edit-delete">
      {canEdit && (
        <button type="button" className="link" onClick={() => setEditing(true)}>
          Edit
        </button>
      )}
      {canDelete && (
        <button
          type="button"
          className="link danger"
          onClick={async () => {
            if (!window.confirm(`Delete this ${what}?`)) return;
            await onDelete();
          }}
        >
          Delete
        </button>
      )}
    </span>
  );
}
