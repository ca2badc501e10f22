// The launcher's settings and port choice: which values count as naming a server, and ports that stay put
// across restarts without taking one that someone else holds.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, validateSettings } from '../../scripts/local-stack/settings.ts';
import { choosePort, ephemeralPort } from '../../scripts/local-stack/state.ts';
import { ROOT } from './launcher-run.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'mdao-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('launcher settings', () => {
  it('without an env file takes the local defaults of .env.example and names no server', () => {
    // a clone without .env (a developer's own .env would change the answer)
    const clone = mkdtempSync(path.join(dir, 'clone-'));
    copyFileSync(path.join(ROOT, '.env.example'), path.join(clone, '.env.example'));
    const settings = loadSettings(clone, { PATH: '/usr/bin' });
    expect(settings.source).toMatch(/^no \.env: using the local defaults of \.env\.example/);
    expect(settings.values.NATS_URL).toBe(''); // .env.example names no server...
    expect(validateSettings(settings.values).NATS_URL).toBe('nats://127.0.0.1:4222'); // ...the config's default is where to look
    expect(settings.explicit.size).toBe(0);
  });

  it('counts non-empty values of the env file and the environment as explicit, the environment winning', () => {
    const envFile = path.join(dir, 'named.env');
    writeFileSync(envFile, 'DB_HOST=db.internal\nNATS_URL=\nREDIS_URL=redis://cache:6379\nAPI_PORT=6000\n');
    const settings = loadSettings(ROOT, { ENV_FILE: envFile, REDIS_URL: 'redis://other:6380' });
    expect(settings.source).toBe(`settings from ${envFile}`);
    expect(settings.explicit.get('DB_HOST')).toBe(envFile);
    expect(settings.explicit.has('NATS_URL')).toBe(false);
    expect(settings.explicit.get('REDIS_URL')).toBe('the environment');
    expect(settings.values.REDIS_URL).toBe('redis://other:6380');
    expect(settings.values.API_PORT).toBe('6000');
    expect(settings.values.APP_ENV).toBe('local');
  });

  it('refuses an ENV_FILE that does not exist instead of silently using defaults', () => {
    expect(() => loadSettings(ROOT, { ENV_FILE: path.join(dir, 'missing.env') })).toThrow(
      /ENV_FILE names .*missing\.env, which does not exist/,
    );
  });
});

describe('choosePort', () => {
  it('keeps the remembered port while it is free, and moves off it once someone else holds it', async () => {
    const remembered = await ephemeralPort();
    const preferred = await ephemeralPort();
    expect(await choosePort(remembered, preferred, new Set())).toBe(remembered);
    expect(await choosePort(remembered, preferred, new Set([remembered]))).toBe(preferred);

    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(remembered, '127.0.0.1', resolve));
    try {
      expect(await choosePort(remembered, preferred, new Set())).toBe(preferred);
      const other = await choosePort(remembered, remembered, new Set());
      expect(other).not.toBe(remembered);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
