// One WebSocket per client (CONTRACT §4): tiny events in, typing/read/ack/ping
// out; reconnect with exponential backoff and jitter; drop events whose seq
// was already seen (delivery is at least once).

const SEEN_MAX = 4000;

export class Realtime {
  constructor(getToken) {
    this.getToken = getToken;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | reconnecting | closed
    this.handlers = new Set();
    this.stateHandlers = new Set();
    this.attempt = 0;
    this.timer = null;
    this.hbTimer = null;
    this.lastFrameAt = 0;
    this.heartbeatMs = 25000;
    this.everOpen = false;
    this.seen = { channel: new Set(), dm: new Set(), notify: new Set() };
    this.seenOrder = { channel: [], dm: [], notify: [] };
    this.stopped = true;
    this.recent = [];
    if (typeof window !== 'undefined') window.__agoraRealtime = this;
  }

  on(fn) {
    this.handlers.add(fn);
    return () => this.handlers.delete(fn);
  }

  onState(fn) {
    this.stateHandlers.add(fn);
    fn(this.state);
    return () => this.stateHandlers.delete(fn);
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.stateHandlers.forEach((fn) => fn(s));
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.hbTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    this.setState('closed');
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws?access_token=${encodeURIComponent(this.getToken() || '')}`;
  }

  connect() {
    if (this.stopped) return;
    const token = this.getToken();
    if (!token) return;
    this.setState(this.everOpen ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.hbTimer);
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.setState(this.everOpen ? 'reconnecting' : 'connecting');
    if (this.everOpen) this.setState('reconnecting');
    const base = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 5));
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** reconnect at once (e.g. the browser came back online) */
  kick() {
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  onFrame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (!f || typeof f.type !== 'string') return;
    this.lastFrameAt = Date.now();
    // the last frames received, for diagnostics (the browser tests save them on failure)
    this.recent.push({ at: new Date().toISOString(), ...f });
    if (this.recent.length > 200) this.recent.shift();
    if (f.type === 'ready') {
      const reconnected = this.everOpen;
      this.everOpen = true;
      this.attempt = 0;
      this.heartbeatMs = f.heartbeatMs || 25000;
      this.startHeartbeat();
      this.setState('open');
      this.emit({ ...f, reconnected });
      return;
    }
    if (f.type === 'pong') return;
    // dedupe by seq, per stream
    if (typeof f.seq === 'number') {
      // the DM stream's frames: dm, dm_updated, dm_deleted and a reaction to a DM (it has from)
      const dmStream = f.type === 'dm' || f.type === 'dm_updated' || f.type === 'dm_deleted' || (f.type === 'reaction' && f.from);
      const stream = dmStream ? 'dm' : f.type === 'notification' ? 'notify' : 'channel';
      const set = this.seen[stream];
      if (set.has(f.seq)) {
        // already handled: still acknowledge, the daemon redelivers until acked
        if (stream !== 'channel') this.send({ action: 'ack', stream, seq: f.seq });
        return;
      }
      set.add(f.seq);
      const order = this.seenOrder[stream];
      order.push(f.seq);
      if (order.length > SEEN_MAX) set.delete(order.shift());
    }
    this.emit(f);
  }

  emit(f) {
    this.handlers.forEach((fn) => {
      try {
        fn(f);
      } catch (e) {
        // a handler's bug must not stop the others
        console.warn('realtime handler failed', e);
      }
    });
  }

  startHeartbeat() {
    clearInterval(this.hbTimer);
    const every = Math.max(2000, Math.floor(this.heartbeatMs / 2));
    this.hbTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== 1) return;
      if (Date.now() - this.lastFrameAt > this.heartbeatMs * 2 + 5000) {
        // the connection is silently dead: drop it and reconnect
        try {
          this.ws.close();
        } catch {
          /* ignore */
        }
        return;
      }
      this.send({ action: 'ping' });
    }, every);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  typing(channelId) {
    return this.send({ action: 'typing', channelId: String(channelId) });
  }

  read(channelId, seq) {
    return this.send({ action: 'read', channelId: String(channelId), seq });
  }

  ack(stream, seq) {
    return this.send({ action: 'ack', stream, seq });
  }
}
