/**
 * The far side of the mesh benchmarks, run in its own process so caller and responder each have a
 * core: `moleculer` starts a broker on NATS with a `bench.echo` action; `nats` answers raw NATS
 * requests on `bench.echo`. Prints "ready" when it can answer.
 */
import moleculer from 'moleculer';
import { connect } from 'nats';

const [mode, natsUrl, namespace] = process.argv.slice(2);

if (mode === 'moleculer') {
  const broker = new moleculer.ServiceBroker({
    namespace,
    nodeID: 'bench-responder',
    transporter: { type: 'NATS', options: { url: natsUrl } },
    logger: false,
  });
  broker.createService({ name: 'bench', actions: { echo: (ctx: moleculer.Context) => ctx.params } });
  await broker.start();
} else if (mode === 'nats') {
  const nc = await connect({ servers: natsUrl });
  // Callback subscription: the fastest way nats.js offers to answer, as Moleculer's transporter does.
  nc.subscribe('bench.echo', { callback: (_error, message) => message.respond(message.data) });
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
