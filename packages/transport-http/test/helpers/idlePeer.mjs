// A separate peer process for streamFailures.test.ts: accepts a stream (answers 200 and reads its
// frames without checking them, printing `read N` for each chunk) and answers every request 204;
// prints its port first. The test SIGKILLs it once the stream is idle (all it was sent read, so
// the kernel closes the connection with a FIN, as for an idle peer link, not a RST).
import http from 'node:http';

const server = http.createServer((req, res) => {
  if (req.url?.startsWith('/raft/v1/stream')) {
    res.writeHead(200, { connection: 'close' });
    res.flushHeaders();
    req.on('data', (chunk) => console.log(`read ${chunk.length}`));
    return;
  }
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
