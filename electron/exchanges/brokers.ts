import Decimal from 'decimal.js';
import type { Exchange } from 'ccxt';
import { AppError, invalidField } from '../../shared/errors';
import { listText } from './texts';
import type { MessageKey, Text } from '../../shared/i18n';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import { newSecretRef, type SecretStore } from '../secrets/store';
import { CREDENTIAL_FIELDS, type CredentialField, type Credentials, type ExchangeGateway } from './gateway';
import { parseBalances, resetPaperAccount } from './paper';

export interface Broker {
  id: string;
  name: string;
  exchange: string;
  testnet: boolean;
  /** A paper broker: simulated balances and orders on the exchange's live prices (no keys). */
  paper: boolean;
  /** A paper broker's slippage on market orders (fraction, e.g. "0.001"); "0" otherwise. */
  paperSlippage: string;
  isDefault: boolean;
  active: boolean;
  credentials: Record<string, string>;
  createdAt: string;
}
export interface BalanceRow {
  asset: string;
  free: string;
  used: string;
  total: string;
}
interface BrokerRow {
  id: string;
  name: string;
  exchange: string;
  testnet: boolean;
  paper: boolean;
  paper_slippage: Decimal;
  is_default: boolean;
  active: boolean;
  secret_ref: string;
  credential_hints: Record<string, string>;
  created_at: Date;
}

/** Fields whose last characters may be shown to help tell keys apart; the others show nothing. */
const HINTABLE: ReadonlySet<string> = new Set(['apiKey', 'uid', 'accountId', 'login', 'walletAddress']);

export function maskCredentials(c: Credentials): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) if (v) out[k] = HINTABLE.has(k) && v.length >= 12 ? `••••${v.slice(-4)}` : '••••';
  return out;
}

const toBroker = (r: BrokerRow): Broker => ({
  id: r.id,
  name: r.name,
  exchange: r.exchange,
  testnet: r.testnet,
  paper: r.paper,
  paperSlippage: new Decimal(String(r.paper_slippage ?? 0)).toFixed(),
  isDefault: r.is_default,
  active: r.active,
  credentials: r.credential_hints,
  createdAt: r.created_at.toISOString(),
});

/** Provides the SecretStore, or says plainly why there is none. */
export interface SecretsProvider {
  store: SecretStore | null;
  message: string;
  /** the message by key (worded in the reader's language); the English `message` when absent */
  text?: Text;
}

/**
 * A profile's testnet mode: every broker OF THAT PROFILE then uses its exchange's sandbox. Profiles
 * are separate users: one profile's switch never moves another's trading (migration 0006).
 */
export class TestnetMode {
  constructor(private readonly db: Database) {}
  async get(profileId: string): Promise<boolean> {
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<{ testnet: boolean }>('SELECT testnet FROM profile_settings'));
    return rows[0]?.testnet === true;
  }
  async set(profileId: string, enabled: boolean): Promise<void> {
    await this.db.withProfile(profileId, (c) =>
      c.query('INSERT INTO profile_settings (testnet) VALUES ($1) ON CONFLICT (profile_id) DO UPDATE SET testnet = EXCLUDED.testnet, updated_at = now()', [enabled]),
    );
  }
}

export class BrokerService {
  constructor(
    private readonly db: Database,
    private readonly gateway: ExchangeGateway,
    private readonly secrets: SecretsProvider,
    private readonly testnet: TestnetMode,
    private readonly log: Logger,
  ) {}

  private store(): SecretStore {
    if (!this.secrets.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: this.secrets.text ?? this.secrets.message });
    return this.secrets.store;
  }

  /** Exactly the fields the exchange requires, each non-empty; nothing CCXT does not know. */
  validateCredentials(exchange: string, credentials: Record<string, string>, testnet: boolean): Credentials {
    const info = this.gateway.info(exchange);
    const issues: { path: string; message: string; key: MessageKey; params: Record<string, string> }[] = [];
    for (const k of Object.keys(credentials)) if (!(CREDENTIAL_FIELDS as readonly string[]).includes(k)) issues.push({ path: `credentials.${k}`, message: `${k} is not a credential field`, key: 'errors.exchanges.notCredentialField', params: { field: k } });
    for (const f of info.requiredCredentials) if (!credentials[f]?.trim()) issues.push({ path: `credentials.${f}`, message: `${f} is required for ${info.name}`, key: 'errors.exchanges.credentialRequired', params: { field: f, name: info.name } });
    if (testnet && !info.hasSandbox) issues.push({ path: 'testnet', message: `${info.name} has no testnet`, key: 'errors.exchanges.noTestnet', params: { name: info.name } });
    if (issues.length) throw new AppError('invalid_input', 'errors.exchanges.credentialProblems', { problems: listText(issues) }, { issues });
    const out: Credentials = {};
    for (const [k, v] of Object.entries(credentials)) if (v.trim()) out[k as CredentialField] = v.trim();
    return out;
  }

  async list(profileId: string): Promise<Broker[]> {
    return this.db.withProfile(profileId, async (c) => (await c.query<BrokerRow>('SELECT * FROM brokers ORDER BY is_default DESC, lower(name)')).rows.map(toBroker));
  }

  private async row(profileId: string, id: string): Promise<BrokerRow> {
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<BrokerRow>('SELECT * FROM brokers WHERE id = $1', [id]));
    if (!rows[0]) throw new AppError('not_found', 'errors.exchanges.noSuchBroker', {}, { field: 'id' });
    return rows[0];
  }

  async get(profileId: string, id: string): Promise<Broker> {
    return toBroker(await this.row(profileId, id));
  }

  async create(profileId: string, input: { name: string; exchange: string; credentials: Record<string, string>; testnet: boolean }): Promise<Broker> {
    const creds = this.validateCredentials(input.exchange, input.credentials, input.testnet);
    const store = this.store();
    const ref = newSecretRef();
    await store.set(ref, JSON.stringify(creds));
    try {
      const b = await this.db.withProfile(profileId, async (c) => {
        const { rows: existing } = await c.query('SELECT 1 FROM brokers LIMIT 1');
        const { rows } = await c.query<BrokerRow>(
          'INSERT INTO brokers (name, exchange, testnet, is_default, secret_ref, credential_hints) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
          [input.name, input.exchange, input.testnet, existing.length === 0, ref, JSON.stringify(maskCredentials(creds))],
        );
        return toBroker(rows[0]!);
      });
      this.log.info({ broker: b.id, exchange: b.exchange, testnet: b.testnet }, 'broker created');
      return b;
    } catch (e) {
      await store.delete(ref).catch(() => undefined);
      if ((e as { code?: string }).code === '23505') throw new AppError('conflict', 'errors.exchanges.brokerNamedAlreadyExists', { name: input.name }, { field: 'name' });
      throw e;
    }
  }

  /**
   * A paper broker (no keys): starting balances (asset → non-negative decimal) and a slippage for
   * market orders (fraction; default ARISTOBOT_PAPER_SLIPPAGE or 0). The exchange must publish its
   * markets and tickers (CCXT `fetchMarkets` and `fetchTicker`).
   */
  async createPaper(profileId: string, input: { name: string; exchange: string; balances: unknown; slippage?: string | null }, defaultSlippage = '0'): Promise<Broker> {
    const info = this.gateway.info(input.exchange);
    const balances = parseBalances(input.balances);
    if (!this.gateway.hasPublicMarketData(input.exchange)) {
      throw invalidField('exchange', 'errors.exchanges.doesNotPublishMarkets', { name: info.name });
    }
    const slippage = parseSlippage(input.slippage ?? defaultSlippage);
    try {
      const b = await this.db.withProfile(profileId, async (c) => {
        const { rows: existing } = await c.query('SELECT 1 FROM brokers LIMIT 1');
        const { rows } = await c.query<BrokerRow>(
          "INSERT INTO brokers (name, exchange, testnet, paper, paper_slippage, is_default, secret_ref, credential_hints) VALUES ($1, $2, false, true, $3, $4, '', '{}') RETURNING *",
          [input.name, input.exchange, slippage.toFixed(), existing.length === 0],
        );
        await resetPaperAccount(c, rows[0]!.id, balances);
        return toBroker(rows[0]!);
      });
      this.log.info({ broker: b.id, exchange: b.exchange, paper: true }, 'paper broker created');
      return b;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new AppError('conflict', 'errors.exchanges.brokerNamedAlreadyExists', { name: input.name }, { field: 'name' });
      throw e;
    }
  }

  /** A paper broker starts again from the given balances; its open paper orders are cancelled. */
  async resetPaper(profileId: string, id: string, balancesIn: unknown): Promise<{ broker: Broker; balances: BalanceRow[] }> {
    const cur = await this.row(profileId, id);
    if (!cur.paper) throw invalidField('id', 'errors.exchanges.notPaperBrokerOnly', { name: cur.name });
    const balances = parseBalances(balancesIn);
    await this.db.withProfile(profileId, (c) => resetPaperAccount(c, id, balances));
    this.gateway.invalidate(id);
    this.log.info({ broker: id, paper: true }, 'paper account reset');
    return {
      broker: toBroker(cur),
      balances: Object.keys(balances)
        .sort()
        .filter((a) => !balances[a]!.isZero())
        .map((asset) => ({ asset, free: balances[asset]!.toFixed(), used: '0', total: balances[asset]!.toFixed() })),
    };
  }

  async update(profileId: string, input: { id: string; name?: string; credentials?: Record<string, string>; testnet?: boolean; active?: boolean }): Promise<Broker> {
    const cur = await this.row(profileId, input.id);
    if (cur.paper && (input.credentials || input.testnet)) {
      throw invalidField(input.credentials ? 'credentials' : 'testnet', 'errors.exchanges.paperBrokerHasNo');
    }
    const testnet = input.testnet ?? cur.testnet;
    let creds: Credentials | null = null;
    if (input.credentials) creds = this.validateCredentials(cur.exchange, input.credentials, testnet);
    else if (input.testnet && !this.gateway.info(cur.exchange).hasSandbox) {
      throw invalidField('testnet', 'errors.exchanges.hasNoTestnet', { exchange: cur.exchange });
    }
    const store = creds ? this.store() : null;
    let previous: string | null = null;
    let wroteSecret = false;
    try {
      // The row first (a name conflict changes nothing); the new keys are written inside the
      // transaction, before it commits; if the commit then fails, the old keys are put back.
      const b = await this.db.withProfile(profileId, async (c) => {
        const { rows } = await c.query<BrokerRow>(
          'UPDATE brokers SET name = coalesce($2, name), testnet = $3, active = coalesce($4, active), credential_hints = $5, updated_at = now() WHERE id = $1 RETURNING *',
          [input.id, input.name ?? null, testnet, input.active ?? null, JSON.stringify(creds ? maskCredentials(creds) : cur.credential_hints)],
        );
        if (store && creds) {
          previous = await store.get(cur.secret_ref);
          await store.set(cur.secret_ref, JSON.stringify(creds));
          wroteSecret = true;
        }
        return toBroker(rows[0]!);
      });
      return b;
    } catch (e) {
      if (wroteSecret && store) {
        await (previous === null ? store.delete(cur.secret_ref) : store.set(cur.secret_ref, previous)).catch((err: Error) =>
          this.log.error({ broker: input.id, err: err.message }, 'could not restore the broker’s previous keys after a failed update'),
        );
      }
      if ((e as { code?: string }).code === '23505') throw new AppError('conflict', 'errors.exchanges.brokerNamedAlreadyExists', { name: input.name }, { field: 'name' });
      throw e;
    } finally {
      this.gateway.invalidate(input.id);
    }
  }

  /** Before a profile is deleted: its brokers' key references, and a function that forgets them. */
  async prepareProfileDeletion(profileId: string): Promise<() => Promise<void>> {
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<{ id: string; secret_ref: string }>('SELECT id, secret_ref FROM brokers'));
    return async () => {
      for (const r of rows) {
        this.gateway.invalidate(r.id);
        if (!r.secret_ref) continue;
        await this.secrets.store?.delete(r.secret_ref).catch((e: Error) => this.log.warn({ broker: r.id, err: e.message }, 'could not delete a deleted profile’s broker keys from the secret store'));
      }
    };
  }

  async delete(profileId: string, id: string): Promise<void> {
    const cur = await this.row(profileId, id);
    await this.db.withProfile(profileId, async (c) => {
      await c.query('DELETE FROM brokers WHERE id = $1', [id]);
      if (cur.is_default) await c.query('UPDATE brokers SET is_default = true WHERE id = (SELECT id FROM brokers ORDER BY created_at LIMIT 1)');
    });
    this.gateway.invalidate(id);
    if (cur.secret_ref) await this.secrets.store?.delete(cur.secret_ref).catch((e: Error) => this.log.warn({ broker: id, err: e.message }, 'could not delete the broker’s keys from the secret store'));
    this.log.info({ broker: id }, 'broker deleted');
  }

  async setDefault(profileId: string, id: string): Promise<Broker> {
    await this.row(profileId, id);
    return this.db.withProfile(profileId, async (c) => {
      await c.query('UPDATE brokers SET is_default = false WHERE is_default AND id <> $1', [id]);
      const { rows } = await c.query<BrokerRow>('UPDATE brokers SET is_default = true, updated_at = now() WHERE id = $1 RETURNING *', [id]);
      return toBroker(rows[0]!);
    });
  }

  private async balances(ex: Exchange): Promise<{ balances: BalanceRow[]; latencyMs: number }> {
    const t0 = Date.now();
    const bal = await this.gateway.run(ex.id, 'fetch balance', () => ex.fetchBalance());
    const latencyMs = Date.now() - t0;
    const total = (bal.total ?? {}) as unknown as Record<string, number | undefined>;
    const free = (bal.free ?? {}) as unknown as Record<string, number | undefined>;
    const used = (bal.used ?? {}) as unknown as Record<string, number | undefined>;
    const d = (n: number | undefined) => new Decimal(String(n ?? 0));
    const balances = Object.keys(total)
      .filter((a) => !d(total[a]).isZero())
      .sort()
      .map((asset) => ({ asset, free: d(free[asset]).toFixed(), used: d(used[asset]).toFixed(), total: d(total[asset]).toFixed() }));
    return { balances, latencyMs };
  }

  /** Connect with typed keys; nothing is saved. */
  async test(profileId: string, exchange: string, credentials: Record<string, string>, testnet: boolean): Promise<{ ok: true; balances: BalanceRow[]; latencyMs: number }> {
    const creds = this.validateCredentials(exchange, credentials, testnet);
    const sandbox = testnet || (await this.testnet.get(profileId));
    const ex = this.gateway.create(exchange, creds, sandbox && this.gateway.info(exchange).hasSandbox);
    return { ok: true, ...(await this.balances(ex)) };
  }

  async testSaved(profileId: string, id: string): Promise<{ ok: true; balances: BalanceRow[]; latencyMs: number }> {
    const { ex } = await this.exchangeFor(profileId, id);
    return { ok: true, ...(await this.balances(ex)) };
  }

  /** The broker's CCXT instance (keys from the SecretStore), with markets loaded. */
  async exchangeFor(profileId: string, id: string, opts: { markets?: boolean } = {}): Promise<{ ex: Exchange; broker: Broker }> {
    // the broker and the profile's testnet switch in one statement (every order asks: one transaction, not two)
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<BrokerRow & { profile_testnet: boolean | null }>('SELECT b.*, (SELECT testnet FROM profile_settings) AS profile_testnet FROM brokers b WHERE b.id = $1', [id]));
    const found = rows[0];
    if (!found) throw new AppError('not_found', 'errors.exchanges.noSuchBroker', {}, { field: 'id' });
    const { profile_testnet: profileTestnet, ...row } = found;
    if (!row.active) throw new AppError('invalid_input', 'errors.exchanges.brokerInactive', { name: row.name });
    if (row.paper) {
      // Paper: live prices whatever the testnet switch says; balances and orders from the database.
      const ex = this.gateway.forPaper(row.id, row.exchange, () => ({ db: this.db, profileId, brokerId: row.id, slippage: new Decimal(String(row.paper_slippage)) }));
      if (opts.markets !== false) await this.gateway.loadMarkets(ex);
      return { ex, broker: toBroker(row) };
    }
    const sandbox = row.testnet || (profileTestnet === true && this.gateway.info(row.exchange).hasSandbox);
    const ex = await this.gateway.forBroker(row.id, row.exchange, sandbox, async () => {
      const raw = await this.store().get(row.secret_ref);
      if (!raw) throw new AppError('secrets_unavailable', 'errors.exchanges.keysBrokerAreMissing', { name: row.name, backend: this.store().backend });
      return JSON.parse(raw) as Credentials;
    });
    if (opts.markets !== false) await this.gateway.loadMarkets(ex);
    return { ex, broker: toBroker(row) };
  }
}

/** A paper broker's slippage: a fraction in [0, 1) as a decimal string. */
export function parseSlippage(raw: unknown): Decimal {
  const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d+(\.\d+)?$/.test(s) || !new Decimal(s).lt(1)) {
    throw invalidField('slippage', 'errors.exchanges.slippageNotFractionBetween', { raw: String(raw) });
  }
  return new Decimal(s);
}
