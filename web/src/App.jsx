import React, { useEffect, useState } from 'react';
import { useApolloClient } from '@apollo/client';
import { api, clearSession, getStoredUser, getToken, onUnauthorized, rememberUser, storeSession } from './api.js';
import AuthForm from './AuthForm.jsx';
import Shell from './Shell.jsx';

export default function App() {
  const client = useApolloClient();
  const [user, setUser] = useState(() => (getToken() ? getStoredUser() : null));

  useEffect(() => {
    // the stored token may have expired: check it once, quietly
    if (!getToken()) return;
    api('GET', '/users/me')
      .then((me) => {
        rememberUser(me);
        storeSession(me);
        setUser(me);
      })
      .catch(() => {
        /* 401 fires onUnauthorized; a network error keeps the session */
      });
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        clearSession();
        client.clearStore().catch(() => {});
        setUser(null);
      }),
    [client],
  );

  const signedIn = (u, token) => {
    storeSession(u, token);
    rememberUser(u);
    setUser(u);
  };

  const signOut = () => {
    clearSession();
    client.clearStore().catch(() => {});
    setUser(null);
  };

  if (!user) return <AuthForm onSignedIn={signedIn} />;
  return <Shell key={user.id} me={user} onSignOut={signOut} />;
}
