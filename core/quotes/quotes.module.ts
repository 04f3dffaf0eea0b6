import path from 'node:path';
import type { Context, Service, ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import type { Platform } from '../platform/platform.ts';
import { buyerQuotesArea } from './buyer-quotes.actions.ts';
import { onMarginDecision, startMarginApproval } from './margin-approval.ts';
import { startOrderConversion } from './order-conversion.ts';
import { quoteAttachmentsArea } from './quote-attachments.ts';
import { startQuoteExpiry } from './quote-expiry.ts';
import type { QuotesArea, QuotesContext } from './quotes-area.ts';
import { loadQuotesConfig, type QuotesConfig } from './quotes-config.ts';
import { staffQuotesArea } from './staff-quotes.actions.ts';

const AREAS: Array<(context: QuotesContext) => QuotesArea> = [
  buyerQuotesArea,
  staffQuotesArea,
  quoteAttachmentsArea,
];

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} } as QuotesContext).routes);

/** The quotes service; `config` defaults to the environment (quotes-config.ts). */
export function quotesService(platform: Platform, config: QuotesConfig = loadQuotesConfig()): ServiceSchema {
  const areas = AREAS.map((area) => area({ platform, config }));
  return {
    name: 'quotes',
    actions: Object.assign({}, ...areas.map((a) => a.actions)),
    events: {
      // The approvals engine decided on a version below the margin floor (margin-approval.ts).
      'approval.approved': {
        handler: (ctx: Context<PublishedOutboxEvent>) => onMarginDecision(platform.db, ctx, 'approved'),
      },
      'approval.rejected': {
        handler: (ctx: Context<PublishedOutboxEvent>) => onMarginDecision(platform.db, ctx, 'rejected'),
      },
    },
    async started(this: Service) {
      await startOrderConversion(platform, this.broker);
      await startMarginApproval(platform, this.broker);
      if (config.sweepSeconds > 0) {
        await startQuoteExpiry(platform, config.sweepSeconds, (expired) => {
          if (expired.length) this.logger.info(`expired ${expired.length} quotes`);
        });
      }
    },
  };
}

export const quotesModule: HubModule = {
  name: 'quotes',
  description:
    'Quotes (一键询价): requests from carts or free-text lines, staff quote versions with discounts and validity, counters, attachments, margin approval, expiry, accepted quotes into orders',
  migrations: { domain: 'quotes', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => quotesService(platform),
};
