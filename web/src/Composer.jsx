import React, { useEffect, useId, useRef, useState } from 'react';
import { displayName, searchUsers } from './api.js';
import { uploadFile } from './uploads.js';

/**
 * A textarea with @mention completion (GET /users?q=). Enter sends,
 * Shift+Enter adds a line; with suggestions open, ArrowUp/ArrowDown move,
 * Enter or Tab pick, Escape closes.
 */
export default function Composer({
  label,
  buttonText = 'Send',
  onSend,
  onTyping,
  disabled,
  placeholder,
  autoFocus,
  className = '',
  initial = '',
  onCancel,
  allowFiles = false,
}) {
  const [text, setText] = useState(initial);
  // files being attached: {key, name, preview, progress, id, error}; dropped, pasted or picked
  const [files, setFiles] = useState([]);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef(null);
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

  const addFiles = (list) => {
    if (!allowFiles) return;
    for (const file of list) {
      const key = `${Date.now()}-${Math.random()}`;
      const preview = file.type && file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
      setFiles((fs) => [...fs, { key, name: file.name || 'pasted image', preview, progress: 0 }]);
      const set = (patch) => setFiles((fs) => fs.map((f) => (f.key === key ? { ...f, ...patch } : f)));
      uploadFile(file, (p) => set({ progress: p }))
        .then((id) => set({ id, progress: 1 }))
        .catch((e) => set({ error: e.message }));
    }
  };
  const uploading = files.some((f) => !f.id && !f.error);

  const send = async () => {
    const ready = files.filter((f) => f.id);
    const body = text.trim() || (ready.length ? ready.map((f) => f.name).join(', ') : '');
    if (!body || busy || uploading) return;
    setBusy(true);
    setError('');
    // cleared at once, as chat composers do; the text comes back if sending fails
    setText('');
    setMention(null);
    const kept = files;
    setFiles([]);
    try {
      if (allowFiles) await onSend(body, ready.map((f) => f.id));
      else await onSend(body);
      kept.forEach((f) => f.preview && URL.revokeObjectURL(f.preview));
    } catch (e) {
      setText(text);
      setFiles(kept);
      setError(e.message || 'Not sent');
    } finally {
      setBusy(false);
      requestAnimationFrame(() => ref.current && ref.current.focus());
    }
  };

  const open = mention && items.length > 0;
  return (
    <form
      className={`composer ${className}${dragging ? ' dragging' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
      onDragOver={(e) => {
        if (!allowFiles) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        if (!allowFiles) return;
        e.preventDefault();
        setDragging(false);
        addFiles(e.dataTransfer.files);
      }}
    >
      {files.length > 0 && (
        <ul className="pending-files" aria-label="Attachments to send">
          {files.map((f) => (
            <li key={f.key} className={f.error ? 'error' : ''}>
              {f.preview && <img src={f.preview} alt="" />}
              <span>{f.name}</span>{' '}
              {f.error ? (
                <span role="alert">{f.error}</span>
              ) : (
                <progress aria-label={`Uploading ${f.name}`} max="100" value={Math.round(f.progress * 100)} />
              )}
              <button type="button" className="icon" aria-label={`Remove ${f.name}`} onClick={() => setFiles((fs) => fs.filter((x) => x.key !== f.key))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
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
        onPaste={(e) => {
          const list = [...(e.clipboardData ? e.clipboardData.files : [])];
          if (allowFiles && list.length) {
            e.preventDefault();
            addFiles(list);
          }
        }}
      />
      {allowFiles && (
        <>
          <input ref={fileInput} type="file" hidden multiple aria-label="Attach files" onChange={(e) => { addFiles(e.target.files); e.target.value = ''; }} />
          <button type="button" className="secondary icon-btn" aria-label="Attach a file" onClick={() => fileInput.current && fileInput.current.click()}>
            📎
          </button>
        </>
      )}
      <button type="submit" disabled={disabled || busy || uploading || !(text.trim() || files.some((f) => f.id))}>
        {buttonText}
      </button>
      {onCancel && (
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
