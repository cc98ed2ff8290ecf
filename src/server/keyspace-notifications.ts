/**
 * Keyspace notifications (notify-keyspace-events): the shards record the events of each command
 * (KeyspaceSignals) and send them with its reply; here each becomes Redis's one or two messages,
 * `__keyspace@<db>__:<key>` → event (flag K) and `__keyevent@<db>__:<event>` → key (flag E), published
 * before the command's reply is delivered, in the order the shard made them.
 */
import type { Config } from '../config/config.js';
import { NotifyType, notifyFlags, type KeyspaceEvent } from '../shard/keyspace-signals.js';
import type { PubSub } from './pubsub.js';

export class KeyspaceNotifier {
  private flags: number;

  constructor(
    config: Config,
    private readonly pubsub: PubSub,
  ) {
    this.flags = notifyFlags(config.get('notify-keyspace-events'));
    config.onChange('notify-keyspace-events', () => {
      this.flags = notifyFlags(config.get('notify-keyspace-events'));
      return undefined;
    });
  }

  publish({ db, event, key }: KeyspaceEvent): void {
    if ((this.flags & NotifyType.Keyspace) !== 0) this.pubsub.publish(Buffer.concat([Buffer.from(`__keyspace@${db}__:`), key]), Buffer.from(event));
    if ((this.flags & NotifyType.Keyevent) !== 0) this.pubsub.publish(Buffer.from(`__keyevent@${db}__:${event}`), key);
  }
}
