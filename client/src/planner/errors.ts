import { ApiError } from '../api.ts';
import { t } from '../i18n.ts';

/** What went wrong with an analysis request, in words for the panel: "not available yet" when the endpoint is missing. */
export function analysisError(err: unknown): string {
  if (err instanceof ApiError && (err.missing || err.status === 501)) return t('unavailable');
  if (err instanceof ApiError) return `${t('failed')}: ${err.message}`;
  return `${t('failed')}: ${(err as Error).message ?? String(err)}`;
}
