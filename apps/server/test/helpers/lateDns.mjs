// Preloaded into a server process (NODE_OPTIONS=--import) by the DNS tests: host names ending
// in `.raftkit-test` resolve to 127.0.0.1 once they are listed, one a line, in the file named by
// LATE_DNS_HOSTS_FILE, and fail with ENOTFOUND before. A name that "appears later", like a
// StatefulSet pod's DNS record, without root, /etc/hosts or any DNS query leaving the machine.
import dns from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';

const file = process.env.LATE_DNS_HOSTS_FILE;
const real = dns.lookup;

function known(host) {
  if (!file || !existsSync(file)) return false;
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).includes(host);
}

dns.lookup = function lookup(host, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'object' && options !== null ? options : {};
  if (typeof host !== 'string' || !host.endsWith('.raftkit-test')) return real.call(this, host, options, callback);
  if (!known(host)) {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (lateDns: not listed yet)`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
    process.nextTick(cb, err);
  } else if (opts.all) {
    process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  } else {
    process.nextTick(cb, null, '127.0.0.1', 4);
  }
};
