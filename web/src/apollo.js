// Apollo Client over HTTP (/graphql) with a normalized cache whose connection
// fields merge pages and single live inserts by node id, newest first.
import { ApolloClient, InMemoryCache, HttpLink, from } from '@apollo/client';
import { setContext } from '@apollo/client/link/context';
import { onError } from '@apollo/client/link/error';
import { getToken, fireUnauthorized } from './api.js';

function connectionPolicy(keyArgs, order) {
  return {
    keyArgs,
    merge(existing, incoming, { args, readField }) {
      if (!existing) return incoming;
      const seen = new Map();
      for (const e of existing.edges || []) seen.set(readField('id', e.node), e);
      for (const e of incoming.edges || []) seen.set(readField('id', e.node), e);
      const edges = [...seen.values()];
      edges.sort((a, b) => {
        const ta = readField('createdAt', a.node) || '';
        const tb = readField('createdAt', b.node) || '';
        if (ta !== tb) return order === 'asc' ? (ta < tb ? -1 : 1) : ta < tb ? 1 : -1;
        const ia = readField('id', a.node) || '';
        const ib = readField('id', b.node) || '';
        return order === 'asc' ? (ia < ib ? -1 : 1) : ia < ib ? 1 : -1;
      });
      // a next page (after) moves the end of the list; a first page or a live
      // insert keeps the end already reached
      const pageInfo = args && args.after ? incoming.pageInfo : existing.pageInfo || incoming.pageInfo;
      return { ...incoming, edges, pageInfo };
    },
  };
}

export function makeClient() {
  const http = new HttpLink({ uri: '/graphql' });
  const auth = setContext((_, { headers }) => {
    const token = getToken();
    return { headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } };
  });
  const errors = onError(({ networkError }) => {
    if (networkError && networkError.statusCode === 401) fireUnauthorized();
  });
  return new ApolloClient({
    link: from([errors, auth, http]),
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            channelPosts: connectionPolicy(['channelId'], 'desc'),
            directMessages: connectionPolicy(['withUserId'], 'desc'),
            search: { keyArgs: ['query'] },
            post: { read: (_, { args, toReference }) => toReference({ __typename: 'Post', id: args.id }) },
            comment: { read: (_, { args, toReference }) => toReference({ __typename: 'Comment', id: args.id }) },
            reply: { read: (_, { args, toReference }) => toReference({ __typename: 'Reply', id: args.id }) },
            directMessage: {
              read: (_, { args, toReference }) => toReference({ __typename: 'DirectMessage', id: args.id }),
            },
          },
        },
        Post: { fields: { comments: connectionPolicy(false, 'asc') } },
        Comment: { fields: { replies: connectionPolicy(false, 'asc') } },
      },
    }),
    defaultOptions: { watchQuery: { errorPolicy: 'all' }, query: { errorPolicy: 'all' } },
  });
}
