import React from 'react';
import { useQuery } from '@apollo/client';
import { SEARCH } from './queries.js';
import { useAgora } from './context.js';
import { linkClick } from './router.js';
import Body, { Time } from './Body.jsx';
import { Author } from './Author.jsx';

function describe(error) {
  const gql = error && error.graphQLErrors && error.graphQLErrors[0];
  const code = gql && gql.extensions && gql.extensions.code;
  if (code === 'unavailable' || code === 'UNAVAILABLE')
    return 'Search is not available right now (the index is being built). Try again later.';
  return `Search failed: ${(gql && gql.message) || (error && error.message) || 'unknown error'}`;
}

export default function SearchView({ query }) {
  const { channels } = useAgora();
  const { data, error, loading } = useQuery(SEARCH, { variables: { query, first: 20 }, skip: !query, fetchPolicy: 'network-only' });
  const edges = (data && data.search && data.search.edges) || [];
  const chName = (id) => {
    const c = (channels || []).find((x) => String(x.id) === String(id));
    return c ? c.name : `channel ${id}`;
  };
  return (
    <section className="panel" aria-labelledby="search-title">
      <h2 id="search-title">Search{query ? `: “${query}”` : ''}</h2>
      {!query && <p className="muted">Type words in the search box above.</p>}
      {loading && <p className="muted">Searching…</p>}
      {error && (
        <p role="alert" className="error">
          {describe(error)}
        </p>
      )}
      {data && data.search && !edges.length && <p className="muted">Nothing found.</p>}
      {edges.length > 0 && (
        <ul aria-label="Search results" className="messages results">
          {edges.map(({ node: p }) => (
            <li key={p.id} className="post">
              <div className="meta">
                <Author user={p.author} /> in{' '}
                <a href={`/c/${p.channelId}`} onClick={(e) => linkClick(e, `/c/${p.channelId}`)}>
                  #{chName(p.channelId)}
                </a>{' '}
                <Time iso={p.createdAt} />
              </div>
              <Body text={p.body} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
