/**
 * One document of this device linked to its room: the sync connection to the server
 * (sync/connection.ts) and the channel to this person's other tabs with the room open
 * (sync/tab-channel.ts, SPEC T1–T5), opened and closed together. The partner's document and the
 * program-level ones are linked the same way; `state` says how the room stands with the server.
 */
import type { ConnectOptions, RoomConnection, SyncState } from '../../sync/connection';
import type { SyncLedger } from '../../sync/pending-changes';

/** What a room's link needs of the device, the same for every room. */
export interface LinkEnvironment {
  /**
   * y-websocket and the sync protocol, loaded beside the first screen rather than in it (the Today
   * screen's JavaScript budget): nothing is shown before the records are loaded anyway.
   */
  modules: Promise<[typeof import('../../sync/connection'), typeof import('../../sync/tab-channel')]>;
  /** The database's name: tabs of another database (tests) never meet. */
  database: string;
  /** The sync endpoint. */
  url: () => string;
  now: () => number;
  WebSocket?: typeof WebSocket;
  BroadcastChannel?: typeof BroadcastChannel;
  /** Whether to connect now: the device is online and the token has not expired (it would only be refused). */
  online: () => boolean;
  /** The sync modules could not be loaded. */
  fail: (error: unknown) => void;
}

/** A document to link: its Y.Doc, its room and the store's ledger of what the server has. */
export type LinkedDocument = Pick<ConnectOptions, 'doc' | 'room'> & { ledger: SyncLedger };

export class RoomLink {
  /** How the room stands with the server (sync SPEC.md C5); undefined until the link is made. */
  state = $state.raw<SyncState | undefined>();
  /** The connection and the tab channel, once made. */
  private connection: Pick<RoomConnection, 'setOnline' | 'destroy'> | undefined;
  /** Bumped by every `connect` and `close`: a connection still waiting for the modules is then not made. */
  private request = 0;

  constructor(
    private readonly document: LinkedDocument,
    /** A read-only link's changes would be dropped by the server: none is ever counted as unsent. */
    private readonly readOnly: boolean,
    private readonly environment: LinkEnvironment,
  ) {}

  /**
   * Links the room with `token` (again, with a new token), for the person `userId`; resolves once
   * that is done (links asked for before it are done too: one module, in order). The state stays
   * as it was until the new connection says otherwise.
   */
  connect(token: string, userId: string): Promise<void> {
    this.disconnect();
    const request = this.request;
    const environment = this.environment;
    return environment.modules.then(
      ([{ connectRoom }, { openTabChannel, tabChannelName }]) => {
        if (request !== this.request) return;
        // The other tabs of this person with the room open; offline too, and whatever the server says.
        const tabs = openTabChannel({
          doc: this.document.doc,
          name: tabChannelName(environment.database, userId, this.document.room),
          ledger: this.document.ledger,
          BroadcastChannel: environment.BroadcastChannel,
        });
        const connection = connectRoom({
          doc: this.document.doc,
          room: this.document.room,
          token,
          readOnly: this.readOnly,
          ledger: tabs.ledger,
          url: environment.url(),
          now: environment.now,
          WebSocket: environment.WebSocket,
          online: environment.online(),
        });
        this.connection = {
          setOnline: (online) => connection.setOnline(online),
          destroy: () => {
            connection.destroy();
            tabs.close();
          },
        };
        connection.subscribe((state) => {
          if (request === this.request) this.state = state;
        });
      },
      (error: unknown) => environment.fail(error),
    );
  }

  /** The device's network came or went (or the token expired). */
  setOnline(online: boolean): void {
    this.connection?.setOnline(online);
  }

  /** Closes the connection (one still waiting for the modules is not made); the state stays as it was. */
  disconnect(): void {
    this.request++;
    this.connection?.destroy();
    this.connection = undefined;
  }

  /** Closes the link for good: the document and its ledger stay as they are. */
  close(): void {
    this.disconnect();
    this.state = undefined;
  }
}
