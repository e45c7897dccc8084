// The comparison servers of the benchmark, on the same TLS key and certificate as registry-gate:
//   bare          node:https, reads the whole body, answers a fixed allowed review (the transport limit);
//   bare-parse    the same plus JSON.parse of the body, answering with its uid (the floor every webhook pays);
//   express-echo  express 5 + express.json(), answering a fixed review with the uid (the common stack);
//   replay        bare-parse answering each path with a recorded response (uid replaced), from a JSON file
//                 {"/mutate": response, …}: registry-gate's answers without its work (bench/controlplane/).
// Usage: node bench/baseline-server.mjs <kind> <port> <certDir> [answers.json]; prints "listening <port>" when ready.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import express from 'express';

const [kind, portText, certDir, answersFile] = process.argv.slice(2);
const tls = {
  cert: readFileSync(join(certDir, 'tls.crt')),
  key: readFileSync(join(certDir, 'tls.key')),
  minVersion: 'TLSv1.2',
};
const answer = (uid) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid, allowed: true },
  });
const FIXED = Buffer.from(answer('00000000-0000-0000-0000-000000000000'));

function readBody(req, done) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

const handlers = {
  bare: (req, res) =>
    readBody(req, () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': FIXED.length });
      res.end(FIXED);
    }),
  'bare-parse': (req, res) =>
    readBody(req, (body) => {
      const review = JSON.parse(body.toString('utf8'));
      const out = answer(review.request.uid);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    }),
  replay: (() => {
    const answers = answersFile ? JSON.parse(readFileSync(answersFile, 'utf8')) : {};
    return (req, res) =>
      readBody(req, (body) => {
        const review = JSON.parse(body.toString('utf8'));
        // The apiserver calls `<path>?timeout=5s`.
        const recorded = answers[req.url.split('?')[0]];
        const out = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { ...(recorded ?? { allowed: true }), uid: review.request.uid },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      });
  })(),
  'express-echo': (() => {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(express.json({ limit: '8mb' }));
    app.post('/{*path}', (req, res) => {
      res.type('application/json').send(answer(req.body.request.uid));
    });
    return app;
  })(),
};

const handler = handlers[kind];
if (!handler) {
  process.stderr.write(`unknown baseline ${kind}: use ${Object.keys(handlers).join(', ')}\n`);
  process.exit(2);
}
// GET (the runner's readiness probe) is answered at once; every POST is a review.
const server = https.createServer(tls, (req, res) =>
  req.method === 'GET' ? res.end('ok') : handler(req, res),
);
server.keepAliveTimeout = 95_000;
server.listen(Number(portText), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
