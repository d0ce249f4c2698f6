/**
 * What this device keeps of the person signed in, in the settings table: their sign-in and the
 * program directory it gave, read at start so that a signed-in device opens offline; and
 * `clearAll`, which removes everything the device holds when someone signs out or clears the data.
 *
 * The sign-in's shape is the app's (app/session/identity.ts): this store keeps it as it is given.
 */
import type { ProgramDirectory } from '../domain/schema';
import type { PartnerKpiDb } from './db';
import { removeJournals } from './journal';

const SIGN_IN_KEY = 'signIn';
const DIRECTORY_KEY = 'directory';

export class DeviceSettings<SignIn> {
  constructor(private readonly db: PartnerKpiDb) {}

  /** The sign-in kept on this device and the directory it gave; undefined when no one is signed in. */
  async signIn(): Promise<{ signIn: SignIn; directory: ProgramDirectory } | undefined> {
    const [signIn, directory] = await this.db.settings.bulkGet([SIGN_IN_KEY, DIRECTORY_KEY]);
    if (!signIn || !directory) return undefined;
    return { signIn: signIn.value as SignIn, directory: directory.value as ProgramDirectory };
  }

  /** Keeps a sign-in, and the directory it gave when given (a vendor manager's switch of partner keeps the one kept). */
  async keepSignIn(signIn: SignIn, directory?: ProgramDirectory): Promise<void> {
    await this.db.settings.bulkPut([
      { key: SIGN_IN_KEY, value: signIn },
      ...(directory ? [{ key: DIRECTORY_KEY, value: directory }] : []),
    ]);
  }

  /**
   * Removes everything this device holds: every table of the database (records, update logs, KPI
   * buckets, settings, drafts) in one transaction, then the saves still in a journal, which would
   * otherwise come back with the next sign-in of their room.
   */
  async clearAll(): Promise<void> {
    await this.db.transaction('rw', this.db.tables, () =>
      Promise.all(this.db.tables.map((table) => table.clear())),
    );
    await removeJournals();
  }
}
