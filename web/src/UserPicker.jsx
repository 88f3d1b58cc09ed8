import React, { useEffect, useId, useRef, useState } from 'react';
import { displayName, searchUsers } from './api.js';

/** A text field with user suggestions (GET /users?q=): arrows move, Enter picks. */
export default function UserPicker({ label, onPick, exclude = [], buttonText = 'Add', autoFocus = false }) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState([]);
  const [active, setActive] = useState(-1);
  const [error, setError] = useState('');
  const id = useId();
  const seq = useRef(0);

  useEffect(() => {
    const text = q.trim().replace(/^@/, '');
    if (!text) {
      setItems([]);
      return undefined;
    }
    const n = ++seq.current;
    const t = setTimeout(() => {
      searchUsers(text, 8)
        .then((us) => {
          if (n !== seq.current) return;
          setItems(us.filter((u) => !exclude.includes(String(u.id))));
          setActive(-1);
        })
        .catch(() => {});
    }, 150);
    return () => clearTimeout(t);
  }, [q]);

  const pick = async (u) => {
    setError('');
    if (!u) {
      const text = q.trim().replace(/^@/, '').toLowerCase();
      if (!text) return;
      let us = items;
      if (!us.some((x) => x.username === text)) us = await searchUsers(text, 20).catch(() => []);
      u = us.find((x) => x.username === text);
      if (!u) {
        setError(`No user named ${text}`);
        return;
      }
    }
    setQ('');
    setItems([]);
    onPick(u);
  };

  const open = items.length > 0;
  return (
    <form
      className="picker"
      onSubmit={(e) => {
        e.preventDefault();
        pick(active >= 0 ? items[active] : null);
      }}
    >
      <label htmlFor={`${id}-in`} className="sr-only-label">
        {label}
      </label>
      <div className="row">
        <input
          id={`${id}-in`}
          autoComplete="off"
          autoFocus={autoFocus}
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={`${id}-list`}
          aria-activedescendant={active >= 0 ? `${id}-opt-${active}` : undefined}
          placeholder="username"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (!open) return;
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setActive((a) => (a + 1) % items.length);
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => (a <= 0 ? items.length - 1 : a - 1));
            } else if (e.key === 'Escape') {
              setItems([]);
            }
          }}
        />
        <button type="submit">{buttonText}</button>
      </div>
      {open && (
        <ul id={`${id}-list`} role="listbox" aria-label={`${label} suggestions`} className="suggestions">
          {items.map((u, i) => (
            <li
              key={u.id}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(u);
              }}
            >
              {displayName(u)} <span className="muted">@{u.username}</span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
