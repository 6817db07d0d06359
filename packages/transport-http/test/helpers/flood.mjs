// A separate attacker process: POSTs `count` bodies of `bytes` concurrently to `url` with the
// given headers, each on its own connection, and prints one JSON line with every outcome.
import http from 'node:http';

const [url, headersJson, count, bytes] = process.argv.slice(2);
const headers = { ...JSON.parse(headersJson), 'content-length': bytes };
const body = Buffer.alloc(Number(bytes), 0x5a);

function post() {
  return new Promise((resolve) => {
    const agent = new http.Agent({ keepAlive: false });
    const req = http.request(url, { method: 'POST', agent, headers });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let code;
        try {
          code = JSON.parse(Buffer.concat(chunks).toString()).error?.code;
        } catch {}
        resolve(`${res.statusCode} ${code}`);
        req.destroy();
      });
    });
    req.on('error', () => resolve('reset'));
    req.end(body);
  });
}

const outcomes = await Promise.all(Array.from({ length: Number(count) }, post));
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
