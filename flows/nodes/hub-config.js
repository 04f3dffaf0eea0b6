'use strict';
const { HubConnection, callerAuth } = require('./lib/hub-connection.js');

/**
 * The hub connection of a flow: the hub process Node-RED runs in, or a remote hub mesh over NATS
 * (namespace and NATS credentials; the credentials stay in Node-RED's encrypted credentials file,
 * never in an exported flow), and the staff or system identity the flow's calls carry.
 */
module.exports = function register(RED) {
  function HubConfigNode(config) {
    RED.nodes.createNode(this, config);
    const credentials = this.credentials || {};
    this.mode = config.mode === 'nats' ? 'nats' : 'in-process';
    try {
      this.caller = callerAuth(config);
    } catch (error) {
      this.caller = undefined;
      this.configError = error;
    }
    this.connection = new HubConnection({
      mode: this.mode,
      localBroker: RED.settings.hub?.broker,
      nats: {
        url: config.natsUrl,
        namespace: config.namespace || 'hub',
        user: credentials.natsUser,
        password: credentials.natsPassword,
        token: credentials.natsToken,
      },
      caller: this.caller,
      timeoutMs: Math.max(1, Number(config.timeoutSeconds) || 30) * 1000,
    });
    this.on('close', (done) => {
      this.connection.close().then(
        () => done(),
        (error) => {
          this.warn(error);
          done();
        },
      );
    });
  }

  /** The connection a node uses, or an error saying what is missing. */
  HubConfigNode.prototype.ready = function ready() {
    if (this.configError) throw this.configError;
    return this.connection;
  };

  RED.nodes.registerType('hub-config', HubConfigNode, {
    credentials: {
      natsUser: { type: 'text' },
      natsPassword: { type: 'password' },
      natsToken: { type: 'password' },
    },
  });

  /**
   * For the hub-call editor: the actions of the running hub, through the connection being edited
   * when it is deployed, else the hub Node-RED runs in.
   */
  RED.httpAdmin.get('/hub-nodes/actions', RED.auth.needsPermission('flows.read'), async (req, res) => {
    try {
      const configNode = typeof req.query.config === 'string' ? RED.nodes.getNode(req.query.config) : null;
      const connection =
        configNode?.connection ??
        new HubConnection({ mode: 'in-process', localBroker: RED.settings.hub?.broker, timeoutMs: 10_000 });
      res.json({ actions: await connection.listActions() });
    } catch (error) {
      res.status(503).json({ error: String(error?.message ?? error) });
    }
  });
};
