import React from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client';
import { makeClient } from './apollo.js';
import App from './App.jsx';
import { syncFileCookie } from './api.js';
import './styles.css';

const client = makeClient();
syncFileCookie(); // a token from an earlier visit: the file cookie goes with it

createRoot(document.getElementById('root')).render(
  <React.StrictMode>
    <ApolloProvider client={client}>
      <App />
    </ApolloProvider>
  </React.StrictMode>,
);
