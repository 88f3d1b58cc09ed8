import React, { useState } from 'react';
import { api } from './api.js';

export default function AuthForm({ onSignedIn }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (mode) => {
    setError('');
    setBusy(true);
    try {
      const body = { username: username.trim(), password };
      if (mode === 'register' && displayName.trim()) body.displayName = displayName.trim();
      const r = await api('POST', mode === 'register' ? '/auth/register' : '/auth/login', body);
      onSignedIn(r.user, r.token);
    } catch (e) {
      if (e.status === 401) setError('Wrong username or password.');
      else if (e.status === 409) setError('That username is taken.');
      else setError(e.message || 'Something went wrong.');
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <form
        className="auth-card"
        aria-labelledby="auth-title"
        onSubmit={(e) => {
          e.preventDefault();
          const which = e.nativeEvent.submitter && e.nativeEvent.submitter.value;
          submit(which === 'register' ? 'register' : 'login');
        }}
      >
        <h1 id="auth-title">Agora</h1>
        <p className="muted">Sign in, or create an account with a display name.</p>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            minLength={3}
            maxLength={32}
            pattern="[a-z0-9_]{3,32}"
            title="3 to 32 characters: lowercase letters, digits and _"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Display name
          <input
            name="displayName"
            autoComplete="nickname"
            maxLength={64}
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" value="login" disabled={busy}>
            Sign in
          </button>
          <button type="submit" value="register" className="secondary" disabled={busy}>
            Sign up
          </button>
        </div>
      </form>
    </main>
  );
}
