import { createContext, useContext } from 'react';

export const Agora = createContext(null);
export const useAgora = () => useContext(Agora);

export function loadJSON(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key) || 'null');
    return v == null ? fallback : v;
  } catch {
    return fallback;
  }
}

export function saveJSON(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: keep going without it */
  }
}
