/**
 * Keeps each partner's channel room (`program/<p>/partner/<id>/channel`) equal to what that
 * partner may read of the vendor's program document: the program's settings, its own entry,
 * people and targets (sync SPEC P7). The vendor writes the program document, offline too; when one
 * of its changes is stored, the partners it touches have their channel written again (after a
 * short delay, so a burst of edits is one write), by the server alone. No client writes a channel.
 */
import {
  onProgramChanged,
  openProgramDoc,
  partnersTouched,
  projectPartnerView,
  readPartners,
  repPartnersOf,
  ROLLUP_ORIGIN,
} from '../../src/lib/sync/program-doc';
import { channelRoom, parseRoom, programRoom } from '../../src/lib/sync/rooms';
import type { Room } from '../sync/room';
import { writeServerView } from './server-view';
import type { SyncServer } from '../sync/sync-server';

export interface ChannelWorkerOptions {
  /** Wait this long after a change of the program document before writing the channels. */
  delayMs: number;
  log: (line: string) => void;
}

export class ChannelWorker {
  private readonly due = new Map<string, { partners: Set<string> | 'all'; timer: NodeJS.Timeout }>();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly sync: SyncServer,
    private readonly options: ChannelWorkerOptions,
  ) {}

  /** Called for every room the server loads: a program room is watched for changes. */
  opened(room: Room): void {
    if (room.name.kind !== 'program') return;
    const { programId } = room.name;
    const pd = openProgramDoc(room.doc);
    let repPartners: Map<string, string> | undefined;
    // Changes before this are the stored state being loaded: nothing to write for them.
    void room.loaded.then(
      () => (repPartners = repPartnersOf(pd)),
      () => {},
    );
    const stop = onProgramChanged(pd, (changed, origin) => {
      if (repPartners === undefined || origin === ROLLUP_ORIGIN) return;
      this.schedule(programId, partnersTouched(pd, changed, repPartners));
    });
    room.doc.once('destroy', () => {
      stop();
      pd.close();
    });
  }

  /** Writes the channels of these partners of the program (all of them: on start) once the delay has passed. */
  schedule(programId: string, partners: Set<string> | 'all'): void {
    if (this.stopped || (partners !== 'all' && partners.size === 0)) return;
    const pending = this.due.get(programId);
    if (pending) {
      if (pending.partners !== 'all')
        pending.partners = partners === 'all' ? 'all' : new Set([...pending.partners, ...partners]);
      return;
    }
    const timer = setTimeout(() => this.run(programId), this.options.delayMs);
    this.due.set(programId, { partners, timer });
  }

  private run(programId: string): void {
    const job = this.due.get(programId);
    if (!job) return;
    this.due.delete(programId);
    this.running = this.running.then(() =>
      this.write(programId, job.partners).catch((error: unknown) =>
        this.options.log(
          `channels: could not write the channels of ${programId}: ${(error as Error).message}`,
        ),
      ),
    );
  }

  private async write(programId: string, partners: Set<string> | 'all'): Promise<void> {
    const program = this.sync.room(parseRoom(programRoom(programId))!);
    const releaseProgram = program.hold();
    const pd = openProgramDoc(program.doc);
    try {
      await program.loaded;
      const ids = partners === 'all' ? readPartners(pd).map((partner) => partner.id) : [...partners];
      for (const partnerId of ids) {
        // One at a time, letting sockets be read between them: a program may have a thousand.
        await new Promise((resolve) => setImmediate(resolve));
        const name = parseRoom(channelRoom(programId, partnerId));
        if (!name) continue;
        // The other partners' channels are written all the same; a failed one at its next change or start.
        await writeServerView(this.sync, name, (view) => projectPartnerView(pd, view, partnerId)).catch(
          (error: unknown) =>
            this.options.log(`channels: could not write ${name.name}: ${(error as Error).message}`),
        );
      }
    } finally {
      pd.close();
      releaseProgram();
      this.sync.unloadIfIdle(program);
    }
  }

  /** Writes everything that is due now (shutdown, tests). */
  flush(): void {
    for (const [programId, job] of this.due) {
      clearTimeout(job.timer);
      this.run(programId);
    }
  }

  /** Resolves when every write started so far is done. */
  settled(): Promise<void> {
    return this.running;
  }

  stop(): void {
    this.flush();
    this.stopped = true;
  }
}
