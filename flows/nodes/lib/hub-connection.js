'use strict';
/**
 * What the hub nodes share: a connection to the hub's Moleculer mesh (the broker of the hub
 * process Node-RED runs in, or a broker of its own joining the mesh over NATS), the caller
 * identity a flow acts with, and small helpers. No business rules live here.
 */
const os = require('node:os');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,4}$/;
const ACTION_NAME = /^[a-zA-Z][a-zA-Z0-9_-]*(\.[a-zA-Z][a-zA-Z0-9_-]*){1,5}$/;
/** Services a flow never calls: the gateway's own and Moleculer's internals. */
const HIDDEN_SERVICES = /^(\$|gateway\.|flows-node-)/;

/** The identity a flow's calls carry in `ctx.meta.auth`: a staff member or a system principal, never a company. */
function callerAuth(config) {
  const kind = config.callerKind === 'staff' ? 'staff' : 'system';
  if (!UUID.test(config.callerId || '')) {
    throw new Error('The hub connection needs a caller id (uuid) for the identity flows act with');
  }
  const permissions = String(config.callerPermissions || '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return { kind, principalId: config.callerId.toLowerCase(), companyId: null, permissions };
}

/**
 * A buyer a flow acts for, read from the message (`{ userId, companyId }`), so the tenant is
 * always named by the data the flow was started with, never made up by the flow.
 */
function buyerAuth(value) {
  if (!value || !UUID.test(value.userId || '') || !UUID.test(value.companyId || '')) {
    throw new Error('The message does not name the buyer to act for ({ userId, companyId } as uuids)');
  }
  return { kind: 'buyer', principalId: value.userId, companyId: value.companyId, permissions: [] };
}

/** The message without its transport objects, as plain JSON (for keeping it in the hub). */
function plainMessage(msg) {
  const { req: _req, res: _res, _msgid, ...rest } = msg;
  return JSON.parse(JSON.stringify(rest));
}

function serviceNameFor(nodeId) {
  return `flows-node-${String(nodeId).replace(/[^A-Za-z0-9]/g, '-')}`;
}

class HubConnection {
  /**
   * @param {object} options
   * @param {'in-process'|'nats'} options.mode
   * @param {import('moleculer').ServiceBroker} [options.localBroker] the hub's broker (in-process mode)
   * @param {object} [options.nats] { url, namespace, user, password, token }
   * @param {object} options.caller the `ctx.meta.auth` of the flow's calls
   * @param {number} options.timeoutMs
   */
  constructor(options) {
    this.options = options;
    this.ownBroker = undefined;
    this.starting = undefined;
  }

  async broker() {
    if (this.options.mode !== 'nats') {
      if (!this.options.localBroker)
        throw new Error('No hub broker in this Node-RED (not embedded in a hub)');
      return this.options.localBroker;
    }
    if (!this.starting) {
      const { ServiceBroker } = require('moleculer');
      const { url, namespace, user, password, token } = this.options.nats;
      const broker = new ServiceBroker({
        namespace,
        nodeID: `flows-${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        transporter: {
          type: 'NATS',
          options: { url, user: user || undefined, pass: password || undefined, token: token || undefined },
        },
        logger: false,
        requestTimeout: this.options.timeoutMs,
        heartbeatInterval: 5,
        heartbeatTimeout: 15,
      });
      this.ownBroker = broker;
      this.starting = broker.start().then(() => broker);
    }
    return this.starting;
  }

  /** Calls a hub action with the given caller (the connection's identity unless a buyer is named). */
  async call(action, params, auth, requestId) {
    if (!ACTION_NAME.test(action || '')) throw new Error(`Not an action name: ${action}`);
    const broker = await this.broker();
    return broker.call(action, params, {
      timeout: this.options.timeoutMs,
      meta: { auth: auth || this.options.caller, origin: { requestId } },
    });
  }

  /** Runs `handler(params)` on each `eventName`; one subscriber per node id across the mesh. */
  async subscribe(nodeId, eventName, handler) {
    if (!EVENT_NAME.test(eventName || '')) throw new Error(`Not an event name: ${eventName}`);
    const broker = await this.broker();
    const service = broker.createService({
      name: serviceNameFor(nodeId),
      events: {
        [eventName]: {
          handler(ctx) {
            return handler(ctx.params);
          },
        },
      },
    });
    return async () => {
      await broker.destroyService(service);
    };
  }

  /** Actions a flow may call, as the mesh knows them now (name and whether any node serves it). */
  async listActions() {
    const broker = await this.broker();
    const actions = broker.registry.getActionList({ onlyAvailable: true, skipInternal: true });
    const names = new Set();
    for (const entry of actions) {
      const visibility = entry.action?.visibility ?? 'published';
      if (HIDDEN_SERVICES.test(entry.name) || !['published', 'public'].includes(visibility)) continue;
      names.add(entry.name);
    }
    return [...names].sort();
  }

  async close() {
    const broker = this.ownBroker;
    this.ownBroker = undefined;
    this.starting = undefined;
    if (broker) await broker.stop();
  }
}

module.exports = { HubConnection, callerAuth, buyerAuth, plainMessage, EVENT_NAME, ACTION_NAME };
