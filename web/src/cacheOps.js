// Live inserts into the Apollo cache: events carry ids, the client fetches a
// missing item once and places it in the lists that are already loaded.
import { gql } from '@apollo/client';
import {
  COMMENT,
  COMMENT_FIELDS,
  DIRECT_MESSAGE,
  DM_FIELDS,
  POST,
  POST_FIELDS,
  REPLY,
  REPLY_FIELDS,
} from './queries.js';

const COMMENT_WITH_REPLIES = gql`
  fragment CommentWithReplies on Comment {
    ...CommentFields
    replies(first: 20) {
      edges {
        cursor
        node {
          ...ReplyFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${COMMENT_FIELDS}
  ${REPLY_FIELDS}
`;

function argsOf(storeFieldName) {
  const i = storeFieldName.indexOf(':');
  if (i < 0) return {};
  try {
    return JSON.parse(storeFieldName.slice(i + 1));
  } catch {
    return {};
  }
}

export function inCache(client, typename, id, fragment, fragmentName) {
  try {
    return client.readFragment({ id: client.cache.identify({ __typename: typename, id }), fragment, fragmentName });
  } catch {
    return null;
  }
}

/** the post, from the cache when it is there, else over GraphQL */
export async function ensurePost(client, id, force = false) {
  if (!force) {
    const hit = inCache(client, 'Post', id, POST_FIELDS, 'PostFields');
    if (hit) return { post: hit, fetched: false };
  }
  const r = await client.query({ query: POST, variables: { id }, fetchPolicy: force ? 'network-only' : 'cache-first' });
  return { post: r.data && r.data.post, fetched: true };
}

function prependEdge(existing, ref, readField, typename, newestFirst = true) {
  if (!existing || !existing.edges) return existing;
  const id = readField('id', ref);
  if (existing.edges.some((e) => readField('id', e.node) === id)) return existing;
  const edge = { __typename: typename, cursor: '', node: ref };
  return { ...existing, edges: newestFirst ? [edge, ...existing.edges] : [...existing.edges, edge] };
}

export function insertPost(client, post) {
  const ref = client.writeFragment({ data: post, fragment: POST_FIELDS, fragmentName: 'PostFields' });
  client.cache.modify({
    id: 'ROOT_QUERY',
    fields: {
      channelPosts(existing, { storeFieldName, readField }) {
        if (String(argsOf(storeFieldName).channelId) !== String(post.channelId)) return existing;
        return prependEdge(existing, ref, readField, 'PostEdge');
      },
    },
  });
}

export function removePost(client, postId) {
  client.cache.modify({
    id: 'ROOT_QUERY',
    fields: {
      channelPosts(existing, { readField }) {
        if (!existing || !existing.edges) return existing;
        return { ...existing, edges: existing.edges.filter((e) => readField('id', e.node) !== postId) };
      },
    },
  });
  client.cache.evict({ id: client.cache.identify({ __typename: 'Post', id: postId }) });
  client.cache.gc();
}

export async function ensureComment(client, postId, commentId) {
  if (inCache(client, 'Comment', commentId, COMMENT_FIELDS, 'CommentFields')) return;
  const r = await client.query({ query: COMMENT, variables: { id: commentId }, fetchPolicy: 'network-only' });
  const c = r.data && r.data.comment;
  if (c) insertComment(client, postId || (c.post && c.post.id), c);
}

export function insertComment(client, postId, comment) {
  const data = {
    ...comment,
    replies: comment.replies || {
      __typename: 'ReplyConnection',
      edges: [],
      pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
    },
  };
  delete data.post;
  const ref = client.writeFragment({ data, fragment: COMMENT_WITH_REPLIES, fragmentName: 'CommentWithReplies' });
  client.cache.modify({
    id: client.cache.identify({ __typename: 'Post', id: postId }),
    fields: {
      comments(existing, { readField }) {
        return prependEdge(existing, ref, readField, 'CommentEdge', false);
      },
    },
  });
}

export async function ensureReply(client, commentId, replyId) {
  if (inCache(client, 'Reply', replyId, REPLY_FIELDS, 'ReplyFields')) return;
  const r = await client.query({ query: REPLY, variables: { id: replyId }, fetchPolicy: 'network-only' });
  const rep = r.data && r.data.reply;
  if (rep) insertReply(client, commentId || (rep.comment && rep.comment.id), rep);
}

export function insertReply(client, commentId, reply) {
  const data = { ...reply };
  delete data.comment;
  const ref = client.writeFragment({ data, fragment: REPLY_FIELDS, fragmentName: 'ReplyFields' });
  client.cache.modify({
    id: client.cache.identify({ __typename: 'Comment', id: commentId }),
    fields: {
      replies(existing, { readField }) {
        return prependEdge(existing, ref, readField, 'ReplyEdge', false);
      },
    },
  });
}

export async function ensureDM(client, id) {
  const hit = inCache(client, 'DirectMessage', id, DM_FIELDS, 'DMFields');
  if (hit) return hit;
  const r = await client.query({ query: DIRECT_MESSAGE, variables: { id }, fetchPolicy: 'network-only' });
  return r.data && r.data.directMessage;
}

export function insertDM(client, otherUserId, dm) {
  const ref = client.writeFragment({ data: dm, fragment: DM_FIELDS, fragmentName: 'DMFields' });
  client.cache.modify({
    id: 'ROOT_QUERY',
    fields: {
      directMessages(existing, { storeFieldName, readField }) {
        if (String(argsOf(storeFieldName).withUserId) !== String(otherUserId)) return existing;
        return prependEdge(existing, ref, readField, 'DirectMessageEdge');
      },
    },
  });
}

export function dropChannelPosts(client, channelId) {
  // a gap: what the list holds may miss posts; forget it so it is fetched again
  client.cache.evict({ id: 'ROOT_QUERY', fieldName: 'channelPosts', args: { channelId: String(channelId) } });
  client.cache.gc();
}

// ---- issue 17: what edits, deletes and reactions do to the cache --------------------------

function dropEdge(client, typename, parentId, field, id) {
  client.cache.modify({
    id: client.cache.identify({ __typename: typename, id: parentId }),
    fields: {
      [field](existing, { readField }) {
        if (!existing || !existing.edges) return existing;
        return { ...existing, edges: existing.edges.filter((e) => readField('id', e.node) !== id) };
      },
    },
  });
}

export function removeComment(client, postId, commentId) {
  dropEdge(client, 'Post', postId, 'comments', commentId);
  client.cache.modify({
    id: client.cache.identify({ __typename: 'Post', id: postId }),
    fields: { commentCount: (n) => Math.max(0, (n || 0) - 1) },
  });
  client.cache.evict({ id: client.cache.identify({ __typename: 'Comment', id: commentId }) });
  client.cache.gc();
}

export function removeReply(client, commentId, replyId) {
  dropEdge(client, 'Comment', commentId, 'replies', replyId);
  client.cache.modify({
    id: client.cache.identify({ __typename: 'Comment', id: commentId }),
    fields: { replyCount: (n) => Math.max(0, (n || 0) - 1) },
  });
  client.cache.evict({ id: client.cache.identify({ __typename: 'Reply', id: replyId }) });
  client.cache.gc();
}

export function removeDM(client, dmId) {
  client.cache.modify({
    id: 'ROOT_QUERY',
    fields: {
      directMessages(existing, { readField }) {
        if (!existing || !existing.edges) return existing;
        return { ...existing, edges: existing.edges.filter((e) => readField('id', e.node) !== dmId) };
      },
    },
  });
  client.cache.evict({ id: client.cache.identify({ __typename: 'DirectMessage', id: dmId }) });
  client.cache.gc();
}

/** Fetch again what an event says changed, when it is on screen (in the cache). */
export async function refresh(client, typename, id) {
  if (!client.cache.identify({ __typename: typename, id })) return;
  const q = { Post: POST, Comment: COMMENT, Reply: REPLY, DirectMessage: DIRECT_MESSAGE }[typename];
  const frag = { Post: [POST_FIELDS, 'PostFields'], Comment: [COMMENT_FIELDS, 'CommentFields'], Reply: [REPLY_FIELDS, 'ReplyFields'], DirectMessage: [DM_FIELDS, 'DMFields'] }[typename];
  if (!inCache(client, typename, id, frag[0], frag[1])) return;
  await client.query({ query: q, variables: { id }, fetchPolicy: 'network-only' }).catch(() => {});
}

/** A reaction frame names only its target: refetch the reactions of whichever type holds that id. */
export async function refreshReactions(client, targetId, queries) {
  for (const typename of ['Post', 'Comment', 'Reply', 'DirectMessage']) {
    const id = client.cache.identify({ __typename: typename, id: targetId });
    const obj = client.cache.extract()[id];
    if (!obj) continue;
    await client.query({ query: queries[typename], variables: { id: targetId }, fetchPolicy: 'network-only' }).catch(() => {});
    return;
  }
}
