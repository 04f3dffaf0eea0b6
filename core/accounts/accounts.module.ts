import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { apiKeysArea } from './api-keys.actions.ts';
import { companyArea } from './company.actions.ts';
import { internalArea } from './internal.actions.ts';
import { rolesArea } from './roles.actions.ts';
import { sessionArea } from './session.actions.ts';
import { staffArea } from './staff.actions.ts';
import { unitsArea } from './units.actions.ts';
import { usersArea } from './users.actions.ts';

/** The parts of the accounts service, each in its own file with its actions and routes. */
const AREAS: Array<(context: AccountsContext) => AccountsArea> = [
  sessionArea,
  companyArea,
  unitsArea,
  usersArea,
  rolesArea,
  apiKeysArea,
  internalArea,
  staffArea,
];

function build(platform: Platform): AccountsArea {
  const context: AccountsContext = {
    platform,
    tokens: new AccessTokens(platform.config.jwtSecret, platform.config.accessTokenTtlSeconds),
  };
  const areas = AREAS.map((area) => area(context));
  return {
    actions: Object.assign({}, ...areas.map((a) => a.actions)),
    routes: areas.flatMap((a) => a.routes),
  };
}

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} as Platform, tokens: {} as AccessTokens }).routes);

export const accountsModule: HubModule = {
  name: 'accounts',
  description: 'Companies, org trees, buyer and staff users, roles and permissions, logins and API keys',
  migrations: { domain: 'accounts', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => ({ name: 'accounts', actions: build(platform).actions }),
};
