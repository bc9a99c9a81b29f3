// Several `edubrain serve` processes on one database (the PostgreSQL scale-out set-up): one demo
// city, N servers on it, and clients that carry one session from a server to another, as a
// load balancer without sticky sessions would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_BASE, Client, createPgDemoDb, serveDb } from './server.mjs';

/**
 * Creates a fresh demo city on the EDUBRAIN_PG server and starts n servers on it (each with
 * extraArgs). Returns { servers: [{base, port, pid, stop, log}], dsn, stop } where stop() stops
 * every server (asserting clean exits, like serveDb) and then drops the database.
 */
export async function startServers(n, { extraArgs = [] } = {}) {
  if (!PG_BASE) throw new Error('startServers needs EDUBRAIN_PG (several servers share PostgreSQL only)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-e2e-multi-'));
  let db;
  const servers = [];
  const cleanup = async () => {
    if (db) await db.drop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = await createPgDemoDb(dir);
    for (let i = 0; i < n; i++) {
      servers.push(await serveDb(db.dsn, { cwd: dir, extraArgs: ['--key-file', db.keyFile, ...extraArgs] }));
    }
  } catch (e) {
    for (const s of servers) await s.stop().catch(() => {});
    await cleanup();
    throw e;
  }
  async function stop() {
    const errors = [];
    for (const s of servers) {
      try {
        await s.stop();
      } catch (e) {
        errors.push(e);
      }
    }
    await cleanup();
    if (errors.length) throw errors[0];
  }
  return { servers, dsn: db.dsn, stop };
}

/** A client for base that presents the same session (cookies and CSRF token) as client. */
export function sameSession(client, base) {
  const c = new Client(base, { lang: client.lang });
  for (const [k, v] of client.cookies) c.cookies.set(k, v);
  c.csrf = client.csrf;
  c.session = client.session;
  return c;
}
