'use strict';
const { buyerAuth, plainMessage } = require('./lib/hub-connection.js');

/**
 * Requests an approval through the hub's approvals engine and continues the flow on the
 * decision: output 1 approved (or no rule required one), output 2 rejected or withdrawn. The
 * request is made as the buyer the message names (the requester); the company's approval rules
 * pick the approvers. While it waits, the message is kept in the hub (`flows.approvalWaits`), not
 * in Node-RED: after a restart the node asks the hub for decisions made meanwhile.
 */
module.exports = function register(RED) {
  function HubApprovalNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.hub = RED.nodes.getNode(config.hub);
    const subjectType = config.subjectType || 'flow';
    const subjectIdProperty = config.subjectIdProperty || 'payload.orderId';
    const snapshotProperty = config.snapshotProperty || 'snapshot';
    const requesterProperty = config.requesterProperty || 'hubBuyer';
    const pollMs = Math.max(1, Number(config.pollSeconds) || 5) * 1000;
    let timer;
    let polling;
    let waiting = 0;

    const route = (msg, state) => (state === 'approved' ? [msg, null] : [null, msg]);

    function showWaiting() {
      if (waiting > 0)
        node.status({
          fill: 'yellow',
          shape: 'ring',
          text: RED._('hub-approval.status.waiting', { count: waiting }),
        });
      else node.status({});
    }

    /** Resumes the flow for every decision the hub has recorded for this node. */
    async function resumeDecided(reconcile) {
      const connection = node.hub.ready();
      for (;;) {
        const { items } = await connection.call('flows.approvalWaits.decided', {
          nodeId: node.id,
          reconcile,
        });
        reconcile = false;
        if (items.length === 0) return;
        for (const item of items) {
          const msg = { ...item.message };
          msg.approval = {
            id: item.approvalId,
            state: item.state,
            comment: item.comment,
            decidedBy: item.decidedBy,
            subject: item.subject,
          };
          node.send(route(msg, item.state));
          await connection.call('flows.approvalWaits.settle', {
            approvalId: item.approvalId,
            nodeId: node.id,
          });
          waiting = Math.max(0, waiting - 1);
        }
        showWaiting();
        if (items.length < 50) return;
      }
    }

    function poll(reconcile) {
      if (polling) return polling;
      polling = resumeDecided(reconcile)
        .catch((error) => {
          node.status({ fill: 'red', shape: 'ring', text: String(error.message).slice(0, 40) });
          node.warn(RED._('hub-approval.errors.poll', { error: error.message }));
        })
        .finally(() => {
          polling = undefined;
        });
      return polling;
    }

    node.on('input', async (msg, send, done) => {
      try {
        if (!node.hub) throw new Error(RED._('hub-approval.errors.no-hub'));
        const connection = node.hub.ready();
        const requester = buyerAuth(RED.util.getMessageProperty(msg, requesterProperty));
        const subjectId = RED.util.getMessageProperty(msg, subjectIdProperty);
        if (subjectId === undefined || subjectId === null || subjectId === '')
          throw new Error(RED._('hub-approval.errors.no-subject', { property: subjectIdProperty }));
        const subject = { type: subjectType, id: String(subjectId) };
        const snapshot = RED.util.getMessageProperty(msg, snapshotProperty);
        node.status({ fill: 'blue', shape: 'ring', text: RED._('hub-approval.status.requesting') });
        const request = await connection.call(
          'approvals.request',
          { subject, snapshot },
          requester,
          msg._msgid,
        );
        msg.approval = { id: request.id, state: request.status, subject };
        if (request.status === 'approved' || request.status === 'not_required') {
          msg.approval.state = 'approved';
          send([msg, null]);
        } else if (request.status === 'rejected') {
          send([null, msg]);
        } else {
          await connection.call('flows.approvalWaits.put', {
            approvalId: request.id,
            nodeId: node.id,
            companyId: requester.companyId,
            requesterId: requester.principalId,
            subject,
            message: plainMessage(msg),
          });
          waiting += 1;
        }
        showWaiting();
        done();
      } catch (error) {
        node.status({ fill: 'red', shape: 'ring', text: String(error.code ?? error.message).slice(0, 40) });
        done(error);
      }
    });

    if (node.hub) {
      // Decisions made while this flow was not deployed (or Node-RED was down) first.
      poll(true);
      timer = setInterval(() => poll(false), pollMs);
    } else {
      node.status({ fill: 'red', shape: 'ring', text: RED._('hub-approval.errors.no-hub') });
    }

    node.on('close', (done) => {
      clearInterval(timer);
      Promise.resolve(polling).then(() => done());
    });
  }

  RED.nodes.registerType('hub-approval', HubApprovalNode);
};
