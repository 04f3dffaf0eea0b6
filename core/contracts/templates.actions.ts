import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { findTemplate, insertTemplate, listTemplates, updateTemplate } from './contract-store.ts';
import { type ContractsArea, type ContractsContext, requireContractsStaff, TAG } from './contracts-area.ts';
import { checkTemplate, TEMPLATE_VARIABLES } from './template-language.ts';

/**
 * Contract templates (合同模板), managed by staff: text with `{{path}}` placeholders checked
 * against the known variables when saved; every change bumps the version and is audited.
 */
export function templatesArea({ platform }: ContractsContext): ContractsArea {
  const { db } = platform;
  return {
    actions: {
      'staff.templates.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireContractsStaff(ctx, 'read');
          return { items: await listTemplates(db) };
        },
      },

      'staff.templates.variables': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireContractsStaff(ctx, 'read');
          return {
            items: [
              ...Object.entries(TEMPLATE_VARIABLES).map(([name, description]) => ({ name, description })),
              { name: 'lines', description: '明细表 The lines table (alone on its line)' },
            ],
          };
        },
      },

      'staff.templates.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireContractsStaff(ctx, 'read');
          const template = await findTemplate(db, ctx.params.id);
          if (!template) throw new NotFound('Template');
          return template;
        },
      },

      'staff.templates.create': {
        params: schemaRef('api/contracts/template-create-request'),
        async handler(ctx: Context<{ code: string; name: string; title: string; body: string }>) {
          const auth = requireContractsStaff(ctx);
          checkTemplate(ctx.params.title);
          checkTemplate(ctx.params.body);
          return db.transaction(async (tx) => {
            const template = await insertTemplate(tx, ctx.params, auth.principalId);
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'contract_template.created',
              entityType: 'contract_template',
              entityId: template.id,
              companyId: null,
              details: { code: template.code },
            });
            return template;
          });
        },
      },

      'staff.templates.update': {
        params: schemaRef('api/contracts/template-update-params'),
        async handler(
          ctx: Context<{ id: string; name?: string; title?: string; body?: string; active?: boolean }>,
        ) {
          const auth = requireContractsStaff(ctx);
          const { id, ...changes } = ctx.params;
          if (changes.title !== undefined) checkTemplate(changes.title);
          if (changes.body !== undefined) checkTemplate(changes.body);
          return db.transaction(async (tx) => {
            const template = await updateTemplate(tx, id, changes, auth.principalId);
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'contract_template.updated',
              entityType: 'contract_template',
              entityId: id,
              companyId: null,
              details: { version: template.version, fields: Object.keys(changes) },
            });
            return template;
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/staff/contract-templates';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'contracts.staff.templates.list',
    operationId: 'listContractTemplates',
    tag: TAG,
    summary: 'Every contract template',
    audience: 'staff',
    responseSchema: 'api/contracts/template-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/variables`,
    action: 'contracts.staff.templates.variables',
    operationId: 'listContractTemplateVariables',
    tag: TAG,
    summary: 'The placeholders a contract template may use',
    audience: 'staff',
    responseSchema: 'api/contracts/template-variables-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'contracts.staff.templates.create',
    operationId: 'createContractTemplate',
    tag: TAG,
    summary: 'A new contract template ({{path}} placeholders only; unknown ones are 422)',
    audience: 'staff',
    requestSchema: 'api/contracts/template-create-request',
    responseSchema: 'entities/contract-template',
    successStatus: 201,
    location: '/api/staff/contract-templates/{id}',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'contracts.staff.templates.get',
    operationId: 'getContractTemplate',
    tag: TAG,
    summary: 'One contract template',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/contract-template',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'contracts.staff.templates.update',
    operationId: 'updateContractTemplate',
    tag: TAG,
    summary: 'Change a contract template (its version goes up; contracts keep theirs)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/contracts/template-update-request',
    responseSchema: 'entities/contract-template',
  },
];
