'use strict';

/**
 * Starts a flow on a hub event (`order.placed`, `approval.requested`, ...). Each deployed node is
 * one subscriber group on the mesh: the event reaches it once, whichever Node-RED takes it.
 * `msg.payload` is the event's data; `msg.event` its id, name, time and company.
 */
module.exports = function register(RED) {
  function HubEventNode(config) {
    RED.nodes.createNode(this, config);
    this.hub = RED.nodes.getNode(config.hub);
    let unsubscribe;
    let closed = false;

    const deliver = (event) => {
      const outboxShaped = event && typeof event === 'object' && 'data' in event && 'name' in event;
      const payload = outboxShaped ? event.data : event;
      const msg = {
        topic: config.event,
        payload,
        event: outboxShaped
          ? {
              id: event.id,
              name: event.name,
              occurredAt: event.occurredAt,
              companyId: event.companyId,
              requestId: event.requestId,
            }
          : { name: config.event },
      };
      this.status({ fill: 'green', shape: 'dot', text: RED._('hub-event.status.received') });
      this.send(msg);
    };

    if (!this.hub) {
      this.status({ fill: 'red', shape: 'ring', text: RED._('hub-event.errors.no-hub') });
      return;
    }
    this.status({ fill: 'yellow', shape: 'ring', text: RED._('hub-event.status.connecting') });
    Promise.resolve()
      .then(() => this.hub.ready().subscribe(this.id, config.event, deliver))
      .then((stop) => {
        if (closed) return stop();
        unsubscribe = stop;
        this.status({ fill: 'green', shape: 'ring', text: config.event });
      })
      .catch((error) => {
        this.status({ fill: 'red', shape: 'ring', text: String(error.message).slice(0, 40) });
        this.error(error);
      });

    this.on('close', (done) => {
      closed = true;
      Promise.resolve(unsubscribe?.()).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('hub-event', HubEventNode);
};
