#!/usr/bin/env node
import { Command } from 'commander';
import { DEMO_BUYER, DEMO_STAFF } from '../accounts/demo-data.ts';
import { createUser } from '../accounts/users.ts';
import { migrate, type RunningHub, selectModules, startHub } from '../hub.ts';
import { hubModules } from '../hub-modules.ts';
import { ConfigError, loadHubConfig } from '../platform/config/hub-config.ts';
import { ensurePostgresReachable, StartupError } from '../platform/connectivity/ensure-reachable.ts';
import { Database } from '../platform/database/database.ts';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.ts';
import { MigrationError } from '../platform/database/migrations.ts';
import { demoPassword, seedDemo, seedDemoOrdersOn } from './demo-data.ts';
import { runFlowsDeploy } from './flows-command.ts';
import { runMappingTest } from './mapping-command.ts';

/** Known start-up failures end with one line on stderr and exit code 1; anything else is a bug. */
function fail(error: unknown): never {
  if (error instanceof StartupError || error instanceof ConfigError || error instanceof MigrationError) {
    process.stderr.write(`hub: ${error.message}\n`);
  } else {
    process.stderr.write(`hub: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
}

/** Runs `work` with a database for one-off commands (migrate, seed), embedded or real. */
async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const config = loadHubConfig();
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let url = config.databaseUrl;
  if (url) await ensurePostgresReachable(url, config.connectTimeoutSeconds);
  else {
    embedded = await startEmbeddedPostgres(config.dataDir);
    url = embedded.url;
  }
  const db = new Database(url, { max: 2 });
  try {
    await migrate(db, selectModules(undefined));
    return await work(db);
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

const program = new Command()
  .name('hub')
  .description('B2B commerce core and integration hub')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Environment:
  DATABASE_URL   PostgreSQL URL (unset: embedded PGlite under var/)
  REDIS_URL      BullMQ on Redis (unset: BullMQ on the PostgreSQL database)
  NATS_URL       Moleculer transporter, comma-separated servers (unset: single process)
  HUB_SERVICES   services this process runs, comma-separated (default: all)
  PORT           HTTP port of the gateway (default 3000)`,
  );

program
  .command('start')
  .description('start the hub (all services, or those in HUB_SERVICES)')
  .option('--demo', 'seed demo accounts first (embedded default friendly)')
  .action(async (options: { demo?: boolean }) => {
    let hub: RunningHub | undefined;
    try {
      const config = loadHubConfig();
      hub = await startHub(config);
      if (options.demo) {
        const { created } = await seedDemo(hub.platform.db);
        const { orders } = await seedDemoOrdersOn(hub);
        hub.platform.logger.info({ created, orders }, 'demo data');
      }
      const modules = hub.modules.map((m) => m.name);
      if (modules.includes('gateway')) {
        const base = `http://localhost:${config.httpPort}`;
        process.stdout.write(
          `\nHub ready in ${hub.startedInMs} ms: ${base}\n` +
            `  API description  ${base}/api/openapi.json\n` +
            `  Job queues       ${base}/admin/queues\n` +
            (config.flows.enabled ? `  Flow editor      ${base}/flows/\n` : '') +
            (options.demo
              ? `  Staff login      ${DEMO_STAFF.email} / ${DEMO_STAFF.password}\n` +
                `  Buyer login      ${DEMO_BUYER.email} / ${DEMO_BUYER.password}  (company admin)\n` +
                `  More buyers      zhang.min@acme.example / ${demoPassword('zhang.min@acme.example')}  (purchaser),\n` +
                `                   wang.fang@acme.example (approver), chen.jie@acme.example (finance): <name>-demo-password\n`
              : '') +
            '\n',
        );
      }
    } catch (error) {
      await hub?.stop().catch(() => {});
      fail(error);
    }
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      hub?.platform.logger.info({ signal }, 'stopping');
      const force = setTimeout(() => process.exit(1), 15_000);
      force.unref();
      await hub?.stop().catch(() => {});
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('migrate')
  .description('apply pending database migrations of every service, then exit')
  .action(async () => {
    try {
      await withDatabase(async () => undefined);
      process.stdout.write('migrations up to date\n');
    } catch (error) {
      fail(error);
    }
  });

const seed = program.command('seed').description('load data');
seed
  .command('demo')
  .description(
    'demo staff admin and two buyer companies with org trees, roles, approval rules and limits, catalog, prices, stock, credit and orders in every status',
  )
  .action(async () => {
    try {
      const { created } = await withDatabase(seedDemo);
      // Orders go through the real saga, so they need the services (not the gateway) for a moment.
      const hub = await startHub(
        loadHubConfig({
          ...process.env,
          HUB_SERVICES: hubModules
            .map((m) => m.name)
            .filter((name) => name !== 'gateway')
            .join(','),
        }),
      );
      try {
        const { orders } = await seedDemoOrdersOn(hub);
        process.stdout.write(
          `${created ? 'demo data created' : 'demo data already present'}; demo orders: ${Object.keys(orders).join(', ') || 'none'}\n`,
        );
      } finally {
        await hub.stop();
      }
    } catch (error) {
      fail(error);
    }
  });

program
  .command('create-staff')
  .description('create a staff user (the first admin of a fresh installation)')
  .requiredOption('--email <email>')
  .requiredOption('--name <displayName>')
  .option('--role <role...>', 'staff roles', ['admin'])
  .action(async (options: { email: string; name: string; role: string[] }) => {
    const password = process.env.HUB_NEW_USER_PASSWORD;
    if (!password || password.length < 12) {
      fail(new StartupError('set HUB_NEW_USER_PASSWORD (12+ characters) to the new user password'));
    }
    try {
      const user = await withDatabase((db) =>
        createUser(db, {
          kind: 'staff',
          companyId: null,
          email: options.email,
          displayName: options.name,
          password,
          roles: options.role,
        }),
      );
      process.stdout.write(`created staff user ${user.id} (${user.email})\n`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('mapping')
  .description('work with mapping files (mappings/)')
  .command('test')
  .description(
    'map one record with a mapping file; prints the result and the errors against the target schema',
  )
  .argument('<file>', 'mapping file, e.g. mappings/kingdee/sales-order.outbound.yaml')
  .argument('<input>', 'JSON file with the record to map')
  .option('--links <file>', 'JSON links { "<entity>": { "<canonical id>": "<external id>" } }')
  .action(async (file: string, input: string, options: { links?: string }) => {
    process.exitCode = await runMappingTest(file, input, options, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  });

program
  .command('flows')
  .description('work with the Node-RED flow library (flows/library)')
  .command('deploy')
  .description(
    'push the flow library to a running hub through the Node-RED admin API (staff with flows.admin)',
  )
  .option('--url <url>', 'the hub', `http://localhost:${process.env.PORT || 3000}`)
  .option('--token <token>', 'staff access token (or HUB_TOKEN)')
  .option('--email <email>', 'staff email to log in with; password from HUB_PASSWORD')
  .option('--library <dir>', 'library folder (default flows/library)')
  .option('--only <name...>', 'only these library flows')
  .action(
    async (options: { url: string; token?: string; email?: string; library?: string; only?: string[] }) => {
      process.exitCode = await runFlowsDeploy(
        {
          ...options,
          token: options.token ?? process.env.HUB_TOKEN,
          password: process.env.HUB_PASSWORD,
        },
        { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
      );
    },
  );

await program.parseAsync(process.argv);
