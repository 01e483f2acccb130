import type { z } from 'zod';
import type { AiSettings as AiSettingsSchema } from '../../shared/contract/ai';
import { DEFAULT_OLLAMA_URL } from '../../shared/contract/ai';
import { AppError, invalidField } from '../../shared/errors';
import type { Text } from '../../shared/i18n';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import { newSecretRef, type SecretStore } from '../secrets/store';

export type AiSettings = z.input<typeof AiSettingsSchema>;
export type Provider = 'off' | 'openrouter' | 'ollama';

export interface AiSettingsPatch {
  provider?: Provider;
  apiKey?: string | null;
  openrouterModel?: string | null;
  ollamaUrl?: string;
  ollamaModel?: string | null;
}

interface Row {
  provider: Provider;
  openrouter_secret_ref: string | null;
  openrouter_key_hint: string | null;
  openrouter_model: string | null;
  ollama_url: string;
  ollama_model: string | null;
}

const DEFAULT_ROW: Row = { provider: 'off', openrouter_secret_ref: null, openrouter_key_hint: null, openrouter_model: null, ollama_url: DEFAULT_OLLAMA_URL, ollama_model: null };

/** What `ai.ask` needs to call the provider switched on. The key is read from the SecretStore here. */
export interface ActiveProvider {
  provider: 'openrouter' | 'ollama';
  model: string | null;
  ollamaUrl: string;
  apiKey?: string;
}

/** `••••1a2b`: the last 4 characters of a key. */
export function maskKey(key: string): string {
  return `••••${key.slice(-4)}`;
}

/**
 * Per-profile AI settings in `ai_settings` (RLS). The OpenRouter key goes to the SecretStore first;
 * the row keeps only its reference and the masked hint. Turning one provider on turns the other off
 * (one `provider` column).
 */
export class AiSettingsStore {
  constructor(
    private readonly db: Database,
    private readonly secrets: { store: SecretStore | null; message: string; text?: Text },
    private readonly log: Logger,
    private readonly callsPerMinute: number,
  ) {}

  private async row(profileId: string): Promise<Row> {
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<Row>('SELECT provider, openrouter_secret_ref, openrouter_key_hint, openrouter_model, ollama_url, ollama_model FROM ai_settings'));
    return rows[0] ?? DEFAULT_ROW;
  }

  private view(r: Row): AiSettings {
    return {
      provider: r.provider,
      openrouter: { keySet: r.openrouter_secret_ref !== null, keyHint: r.openrouter_key_hint, model: r.openrouter_model },
      ollama: { url: r.ollama_url, model: r.ollama_model },
      callsPerMinute: this.callsPerMinute,
    };
  }

  async get(profileId: string): Promise<AiSettings> {
    return this.view(await this.row(profileId));
  }

  async update(profileId: string, patch: AiSettingsPatch): Promise<AiSettings> {
    const cur = await this.row(profileId);
    const next: Row = { ...cur };
    if (patch.openrouterModel !== undefined) next.openrouter_model = patch.openrouterModel;
    if (patch.ollamaModel !== undefined) next.ollama_model = patch.ollamaModel;
    if (patch.ollamaUrl !== undefined) next.ollama_url = patch.ollamaUrl.replace(/\/+$/, '');
    if (patch.provider !== undefined) next.provider = patch.provider;

    const store = (): SecretStore => {
      if (!this.secrets.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: this.secrets.text ?? this.secrets.message });
      return this.secrets.store;
    };
    let newRef: string | null = null;
    let dropRef: string | null = null;
    if (patch.apiKey === null) {
      dropRef = cur.openrouter_secret_ref;
      next.openrouter_secret_ref = null;
      next.openrouter_key_hint = null;
      // Forgetting the key switches OpenRouter off (unless this same call picks Ollama).
      if (next.provider === 'openrouter' && patch.provider !== 'openrouter') next.provider = 'off';
    } else if (patch.apiKey !== undefined) {
      next.openrouter_key_hint = maskKey(patch.apiKey);
      if (cur.openrouter_secret_ref) next.openrouter_secret_ref = cur.openrouter_secret_ref;
      else next.openrouter_secret_ref = newRef = newSecretRef();
    }
    if (next.provider === 'openrouter' && next.openrouter_secret_ref === null) {
      throw invalidField('apiKey', 'errors.ai.enterOpenrouterApiKey');
    }

    // The key goes to the SecretStore before the row names it; a replaced key is restored if the row cannot be written.
    let previous: string | null = null;
    if (patch.apiKey) {
      const s = store();
      if (!newRef) previous = await s.get(next.openrouter_secret_ref!);
      await s.set(next.openrouter_secret_ref!, patch.apiKey);
    }
    try {
      await this.db.withProfile(profileId, (c) =>
        c.query(
          `INSERT INTO ai_settings (provider, openrouter_secret_ref, openrouter_key_hint, openrouter_model, ollama_url, ollama_model)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (profile_id) DO UPDATE SET provider = $1, openrouter_secret_ref = $2, openrouter_key_hint = $3, openrouter_model = $4,
             ollama_url = $5, ollama_model = $6, updated_at = now()`,
          [next.provider, next.openrouter_secret_ref, next.openrouter_key_hint, next.openrouter_model, next.ollama_url, next.ollama_model],
        ),
      );
    } catch (e) {
      if (patch.apiKey && next.openrouter_secret_ref) {
        const s = store();
        await (newRef || previous === null ? s.delete(next.openrouter_secret_ref) : s.set(next.openrouter_secret_ref, previous)).catch((err: Error) =>
          this.log.warn({ err: err.message }, 'could not restore the OpenRouter key after a failed settings update'),
        );
      }
      throw e;
    }
    if (dropRef) await this.secrets.store?.delete(dropRef).catch((e: Error) => this.log.warn({ err: e.message }, 'could not delete the OpenRouter key from the secret store'));
    return this.view(next);
  }

  /** The provider switched on, with its key; `ai_off` (saying how to turn it on) when none is. */
  async active(profileId: string, which?: 'openrouter' | 'ollama'): Promise<ActiveProvider> {
    const r = await this.row(profileId);
    const provider = which ?? (r.provider === 'off' ? null : r.provider);
    if (!provider) {
      throw new AppError('ai_off', 'errors.ai.aiAssistantOffTurn');
    }
    if (provider === 'ollama') return { provider, model: r.ollama_model, ollamaUrl: r.ollama_url };
    if (!r.openrouter_secret_ref) throw new AppError('ai_off', 'errors.ai.noOpenrouterApiKey');
    if (!this.secrets.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: this.secrets.text ?? this.secrets.message });
    const apiKey = await this.secrets.store.get(r.openrouter_secret_ref);
    if (!apiKey) throw new AppError('secrets_unavailable', 'errors.ai.openrouterApiKeyMissing', { backend: this.secrets.store.backend });
    return { provider, model: r.openrouter_model, ollamaUrl: r.ollama_url, apiKey };
  }

  /** Profile deletion: the key leaves the SecretStore once the profile's rows are gone. */
  async prepareProfileDeletion(profileId: string): Promise<() => Promise<void>> {
    const r = await this.row(profileId);
    return async () => {
      if (r.openrouter_secret_ref) await this.secrets.store?.delete(r.openrouter_secret_ref).catch((e: Error) => this.log.warn({ err: e.message }, 'could not delete a deleted profile’s OpenRouter key'));
    };
  }
}
