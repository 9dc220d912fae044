// A small browser chat: GET / serves the page, /chat is its WebSocket; everyone is in one room.
// `npm run example:chat` serves it on 127.0.0.1:3000 (PORT and HOST override).

import { isMain, serveExample } from './serve-example.js';
import { createServer, type AppOptions } from '../lib/index.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>linger chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; color: #222; }
  #log { border: 1px solid #ccc; border-radius: 6px; height: 18rem; overflow-y: auto; padding: .5rem; margin-bottom: .5rem; }
  #log p { margin: .2rem 0; } #log b { color: #2a5db0; }
  form { display: flex; gap: .5rem; } #text { flex: 1; padding: .4rem; } #status { color: #777; font-size: 13px; }
</style>
</head>
<body>
<h1>linger chat</h1>
<div id="status">connecting…</div>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Say something" disabled><button id="send" disabled>Send</button></form>
<script>
  const name = new URLSearchParams(location.search).get('name') || 'guest-' + Math.floor(Math.random() * 1000);
  const status = document.getElementById('status');
  const log = document.getElementById('log');
  const text = document.getElementById('text');
  const send = document.getElementById('send');
  const ws = new WebSocket('ws://' + location.host + '/chat?name=' + encodeURIComponent(name));
  function show(from, message) {
    const p = document.createElement('p');
    const b = document.createElement('b');
    b.textContent = from + ': ';
    p.append(b, document.createTextNode(message));
    log.append(p);
    log.scrollTop = log.scrollHeight;
  }
  ws.onopen = () => { status.textContent = 'connected as ' + name; text.disabled = send.disabled = false; text.focus(); };
  ws.onmessage = (event) => { const m = JSON.parse(event.data); show(m.from, m.text); };
  ws.onclose = (event) => { status.textContent = 'closed ' + event.code; text.disabled = send.disabled = true; };
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    if (text.value.trim() === '') return;
    ws.send(text.value);
    text.value = '';
  };
</script>
</body>
</html>
`;

export function buildChatApp(options?: AppOptions) {
  const app = createServer(options);
  app.get('/', (_req, res) => {
    res.type('text/html; charset=utf-8').send(PAGE);
  });
  app.ws('/chat', (socket, req) => {
    const name = (req.query.get('name') ?? 'guest').slice(0, 40);
    app.websockets.join('lobby', socket);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString().slice(0, 2000);
      // Everyone, the sender included, sees the message in the order the server saw it.
      app.websockets.broadcast('lobby', JSON.stringify({ from: name, text }));
    });
  }, { maxPayload: 16 * 1024 });
  return app;
}

if (isMain(import.meta.url)) await serveExample(buildChatApp(), 'linger chat');
