#!/usr/bin/env node
// A proxy in front of an S3-compatible server (s3rver) for metasync's s3://
// tests.  It checks what s3rver does not: every request's SigV4 signature,
// recomputed the way AWS does it (canonical URI and query re-encoded, headers
// trimmed, scope and date), and that x-amz-content-sha256 is the SHA-256 of
// the payload actually sent (UNSIGNED-PAYLOAD refused).  With fault rates it
// answers 503 SlowDown, or drops the connection before or after the server
// has acted on the request, at random.  With --uploads it also answers
// ListMultipartUploads and AbortMultipartUpload, which s3rver lacks, from
// the uploads it saw start, complete or abort (--uploads-age S: each seems
// started S seconds earlier; --uploads-page N: N uploads per page).
//
//   node s3_proxy.js --target http://127.0.0.1:PORT [--secret S] [--fail P]
//                    [--drop P] [--seed N] [--log FILE]
//                    [--uploads 1 [--uploads-age S] [--uploads-page N]]
//
// Prints "listening on PORT" once ready.  --secret: the secret key to verify
// with (default $AWS_SECRET_ACCESS_KEY); --fail / --drop: probabilities in
// [0, 1); --log: one line per injected fault or refused request.
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const target = new URL(args.target || 'http://127.0.0.1:4568');
const secret = args.secret || process.env.AWS_SECRET_ACCESS_KEY || '';
const failRate = Number(args.fail || 0);
const dropRate = Number(args.drop || 0);
let seed = Number(args.seed || Date.now()) >>> 0;
const logFile = args.log;
const emulateUploads = Boolean(args.uploads);
const uploadsAge = Number(args['uploads-age'] || 0);
const uploadsPage = Number(args['uploads-page'] || 1000);
// uploadId -> { bucket, key, initiated (Date) }, for --uploads
const uploads = new Map();

function random() {
  // xorshift32: reproducible with --seed
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}

function log(line) {
  if (logFile) fs.appendFileSync(logFile, line + '\n');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

function sha256hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// RFC 3986 encoding as SigV4 wants it (unreserved characters kept).
function enc(s, keepSlash) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function dec(s) {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}

function xmlError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// null when the request is signed correctly, else [status, code, message].
function verify(req, body) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [403, 'AccessDenied', 'no or malformed SigV4 authorization header'];
  const [, , date, region, signedHeaders, signature] = m;
  const amzDate = req.headers['x-amz-date'] || '';
  if (amzDate.slice(0, 8) !== date) return [403, 'AccessDenied', 'x-amz-date does not match the credential scope'];
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) return [400, 'InvalidRequest', 'missing x-amz-content-sha256'];
  if (payloadHash !== sha256hex(body)) return [400, 'XAmzContentSHA256Mismatch', `x-amz-content-sha256 is not the payload's (${payloadHash})`];
  const names = signedHeaders.split(';');
  for (const need of ['host', 'x-amz-content-sha256', 'x-amz-date'])
    if (!names.includes(need)) return [403, 'AccessDenied', `${need} is not signed`];
  // AWS wants every x-amz-* header signed (x-amz-security-token among them).
  for (const h of Object.keys(req.headers))
    if (h.startsWith('x-amz-') && !names.includes(h)) return [403, 'AccessDenied', `${h} is not signed`];
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalUri = enc(dec(path), true);
  const pairs = query === '' ? [] : query.split('&').filter(p => p !== '').map(p => {
    const e = p.indexOf('=');
    const k = e < 0 ? p : p.slice(0, e);
    const v = e < 0 ? '' : p.slice(e + 1);
    return [enc(dec(k)), enc(dec(v))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalHeaders = names.map(n => {
    const v = req.headers[n];
    return `${n}:${(Array.isArray(v) ? v.join(',') : v || '').trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const canonical = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), 's3'), 'aws4_request');
  const want = hmac(key, toSign).toString('hex');
  if (want !== signature) return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  return null;
}

function xmlEscape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// --uploads: answer ListMultipartUploads and AbortMultipartUpload here.
// true when the request was answered.
function answerUploads(req, res) {
  const q = req.url.indexOf('?');
  const path = dec(q < 0 ? req.url : req.url.slice(0, q)).replace(/^\//, '');
  const params = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  const slash = path.indexOf('/');
  const bucket = slash < 0 ? path : path.slice(0, slash);
  const key = slash < 0 ? '' : path.slice(slash + 1);
  if (req.method === 'GET' && key === '' && params.has('uploads')) {
    const prefix = params.get('prefix') || '';
    const km = params.get('key-marker') || '';
    const um = params.get('upload-id-marker') || '';
    const all = [...uploads.entries()]
      .filter(([, u]) => u.bucket === bucket && u.key.startsWith(prefix))
      .sort((a, b) => (a[1].key < b[1].key ? -1 : a[1].key > b[1].key ? 1 : a[0] < b[0] ? -1 : 1))
      .filter(([id, u]) => km === '' || u.key > km || (u.key === km && id > um));
    const page = all.slice(0, uploadsPage);
    const truncated = all.length > page.length;
    const last = page[page.length - 1];
    let body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>' +
      `<Bucket>${xmlEscape(bucket)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix>` +
      `<IsTruncated>${truncated}</IsTruncated>`;
    if (truncated)
      body += `<NextKeyMarker>${xmlEscape(last[1].key)}</NextKeyMarker><NextUploadIdMarker>${last[0]}</NextUploadIdMarker>`;
    for (const [id, u] of page)
      body += `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${id}</UploadId>` +
        `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`;
    body += '</ListMultipartUploadsResult>';
    log(`uploads list ${prefix}: ${page.length} of ${all.length}`);
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }
  if (req.method === 'DELETE' && key !== '' && params.has('uploadId')) {
    const id = params.get('uploadId');
    if (!uploads.has(id)) {
      xmlError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      return true;
    }
    uploads.delete(id);
    log(`uploads abort ${key} ${id}`);
    res.writeHead(204);
    res.end();
    return true;
  }
  return false;
}

// --uploads: what the server said to a start or a completion of an upload.
function noteUploads(req, status, body) {
  const q = req.url.indexOf('?');
  const path = dec(q < 0 ? req.url : req.url.slice(0, q)).replace(/^\//, '');
  const params = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  const slash = path.indexOf('/');
  if (req.method !== 'POST' || slash < 0 || status !== 200) return;
  if (params.has('uploads')) {
    const m = /<UploadId>([^<]+)<\/UploadId>/.exec(body.toString());
    if (m) uploads.set(m[1], { bucket: path.slice(0, slash), key: path.slice(slash + 1),
      initiated: new Date(Date.now() - uploadsAge * 1000) });
  } else if (params.has('uploadId')) {
    uploads.delete(params.get('uploadId'));
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const what = `${req.method} ${req.url.slice(0, 200)}`;
    const bad = verify(req, body);
    if (bad) {
      log(`refused ${bad[1]} ${what}: ${bad[2]}`);
      xmlError(res, bad[0], bad[1], bad[2]);
      return;
    }
    if (emulateUploads && answerUploads(req, res)) return;
    const r = random();
    if (r < failRate) {
      log(`fault 503 ${what}`);
      xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
      return;
    }
    const dropBefore = r < failRate + dropRate / 2;
    const dropAfter = !dropBefore && r < failRate + dropRate;
    if (dropBefore) {
      log(`fault drop-before ${what}`);
      req.socket.destroy();
      return;
    }
    const headers = Object.assign({}, req.headers);
    headers['content-length'] = String(body.length);
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers,
    }, upRes => {
      if (dropAfter) {
        // The server has acted on the request; the client never hears of it.
        log(`fault drop-after ${what}`);
        upRes.resume();
        upRes.on('end', () => req.socket.destroy());
        return;
      }
      if (emulateUploads) {
        const got = [];
        upRes.on('data', c => got.push(c));
        upRes.on('end', () => noteUploads(req, upRes.statusCode, Buffer.concat(got)));
      }
      res.writeHead(upRes.statusCode, upRes.headers);
      res.flushHeaders();
      // A body the server cuts short is cut short for the client too.
      upRes.on('aborted', () => req.socket.destroy());
      upRes.on('error', () => req.socket.destroy());
      upRes.pipe(res);
    });
    up.on('error', e => {
      log(`upstream error ${what}: ${e.message}`);
      if (res.headersSent) req.socket.destroy();
      else xmlError(res, 502, 'BadGateway', e.message);
    });
    up.end(body);
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
