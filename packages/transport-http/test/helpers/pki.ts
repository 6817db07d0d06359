import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PKI made with the openssl CLI: two unrelated CAs and a node certificate. */
export interface TestPki {
  /** The CA that signed `nodeCert`. */
  readonly ca: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  readonly otherCa: string;
  /** Key and certificate for 127.0.0.1 (server and client use), signed by `ca`. */
  readonly nodeKey: string;
  readonly nodeCert: string;
  dispose(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  openssl(dir, ['req', ...EC, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'node.ext'), [
    'subjectAltName=IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth,clientAuth',
  ].join('\n'));
  openssl(dir, ['x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'node.crt', '-days', '2', '-extfile', 'node.ext']);
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  return {
    ca: read('ca.crt'),
    otherCa: read('other-ca.crt'),
    nodeKey: read('node.key'),
    nodeCert: read('node.crt'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
