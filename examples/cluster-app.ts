// An app module for the cluster CLI: `linger serve dist/examples/cluster-app.js --workers 2`.
// It only builds the app; the cluster worker listens, so importing it starts nothing.

import { createServer } from '../lib/index.js';

const app = createServer();

app.get('/', () => `hello from worker ${process.pid}\n`);

// Readiness for a load balancer's health check: 503 from the moment this worker starts closing, so
// the balancer takes it out of rotation while its in-flight requests still finish.
app.get('/healthz', (req, res) => {
  if (!app.ready) return res.status(503).send('shutting down\n');
  return 'ok\n';
});

export default app;
