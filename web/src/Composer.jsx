import React, { useEffect, useId, useRef, useState } from 'react';
import { displayName, searchUsers } from './api.js';

/**
 * A textarea with @mention completion (GET /users?q=). Enter sends,
 * Shift+Enter adds a line; with suggestions open, ArrowUp/ArrowDown move,
 * Enter or Tab pick, Escape closes.
 */
export default function Composer({ label, buttonText = 'Send', onSend, onTyping, disabled, placeholder, autoFocus, className = '' }) {
  const [text, setText] = useState('');
  const [items, setItems] = useState([]);
  const [active, setActive] = useState(0);
  const [mention, setMention] = useState(null); // {start, query}
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const ref = useRef(null);
  const seq = useRef(0);
  const id = useId();

  useEffect(() => {
    if (!mention) {
      setItems([]);
      return undefined;
    }
    const n = ++seq.current;
    const t = setTimeout(() => {
      searchUsers(mention.query || '', 6)
        .then((us) => {
          if (n !== seq.current) return;
          setItems(us);
          setActive(0);
        })
        .catch(() => setItems([]));
    }, mention.query ? 120 : 0);
    return () => clearTimeout(t);
  }, [mention && mention.query, mention && mention.start]);

  const detect = (value, caret) => {
    const before = value.slice(0, caret);
    const m = before.match(/(^|[^a-z0-9_@])@([a-z0-9_]{0,32})$/i);
    if (m && m[2].length >= 1) setMention({ start: caret - m[2].length - 1, query: m[2].toLowerCase() });
    else setMention(null);
  };

  const pick = (u) => {
    const el = ref.current;
    const caret = el ? el.selectionStart : text.length;
    const start = mention.start;
    const next = `${text.slice(0, start)}@${u.username} ${text.slice(caret)}`;
    setText(next);
    setMention(null);
    setItems([]);
    requestAnimationFrame(() => {
      if (!ref.current) return;
      const pos = start + u.username.length + 2;
      ref.current.focus();
      ref.current.setSelectionRange(pos, pos);
    });
  };

  const send = async () => {
    const body = text.trim();
    if (!body || busy) return;
    setBusy(true);
    setError('');
    // cleared at once, as chat composers do; the text comes back if sending fails
    setText('');
    setMention(null);
    try {
      await onSend(body);
    } catch (e) {
      setText(body);
      setError(e.message || 'Not sent');
    } finally {
      setBusy(false);
      requestAnimationFrame(() => ref.current && ref.current.focus());
    }
  };

  const open = mention && items.length > 0;
  return (
    <form
      className={`composer ${className}`}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {open && (
        <ul id={`${id}-mentions`} role="listbox" aria-label="Mention suggestions" className="suggestions up">
          {items.map((u, i) => (
            <li
              key={u.id}
              id={`${id}-m-${i}`}
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
      <textarea
        ref={ref}
        aria-label={label}
        aria-autocomplete="list"
        aria-controls={open ? `${id}-mentions` : undefined}
        aria-activedescendant={open ? `${id}-m-${active}` : undefined}
        rows={1}
        placeholder={placeholder}
        autoFocus={autoFocus}
        disabled={disabled}
        value={text}
        maxLength={10000}
        onChange={(e) => {
          setText(e.target.value);
          detect(e.target.value, e.target.selectionStart);
          if (onTyping && e.target.value.trim()) onTyping();
        }}
        onKeyDown={(e) => {
          if (open) {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setActive((a) => (a + 1) % items.length);
              return;
            }
            if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => (a - 1 + items.length) % items.length);
              return;
            }
            if (e.key === 'Enter' || e.key === 'Tab') {
              e.preventDefault();
              pick(items[active]);
              return;
            }
            if (e.key === 'Escape') {
              e.preventDefault();
              setMention(null);
              return;
            }
          }
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        onKeyUp={(e) => {
          if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) detect(e.target.value, e.target.selectionStart);
        }}
        onBlur={() => setTimeout(() => setMention(null), 150)}
      />
      <button type="submit" disabled={disabled || busy || !text.trim()}>
        {buttonText}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
