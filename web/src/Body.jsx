import React from 'react';

/** post text with @mentions marked; plain text only (no HTML from the server) */
export default function Body({ text }) {
  const parts = String(text).split(/(@[a-z0-9_]{3,32})/g);
  return (
    <p className="body">
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <span key={i} className="mention">
            {p}
          </span>
        ) : (
          p
        ),
      )}
    </p>
  );
}

export function Time({ iso }) {
  if (!iso) return null;
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return (
    <time dateTime={iso} title={d.toLocaleString()}>
      {today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString()}
    </time>
  );
}
