/**
 * The one schema module: every record of the program and every field of it, described once.
 *
 * Validation (valibot), the CSV columns, the test factories and — later — the IndexedDB indexes and
 * the Yjs field lists are all derived from the field tables below, so a field is added in one place.
 * Pure: no Svelte, no IndexedDB, no Yjs, no clock.
 */
import * as v from 'valibot';

export const CHANNELS = ['paid', 'earned', 'owned', 'referral'] as const;
export const LEAD_STATUSES = ['new', 'qualified', 'disqualified', 'converted'] as const;
export const STAGES = ['prospecting', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;
export const OPEN_STAGES = ['prospecting', 'qualified', 'proposal', 'negotiation'] as const;
export const LOST_REASONS = ['competitor', 'price', 'no_decision', 'timing', 'other'] as const;
export const ROLES = ['rep', 'partner_manager', 'vendor_manager'] as const;

export type Channel = (typeof CHANNELS)[number];
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export type Stage = (typeof STAGES)[number];
export type OpenStage = (typeof OPEN_STAGES)[number];
export type LostReason = (typeof LOST_REASONS)[number];
export type Role = (typeof ROLES)[number];

/** Default win probability (percent) of a deal in each stage; a rep may override it while the deal is open. */
export const DEFAULT_STAGE_PROBABILITY: Readonly<Record<Stage, number>> = {
  prospecting: 10,
  qualified: 25,
  proposal: 50,
  negotiation: 75,
  won: 100,
  lost: 0,
};

export function isOpenStage(stage: Stage): stage is OpenStage {
  return stage !== 'won' && stage !== 'lost';
}

/** Ids are made on the device: short, URL- and CSV-safe, no spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** Instants are epoch milliseconds between 1970 and 2100: anything else is a typo or a unit mix-up. */
const LATEST_INSTANT = Date.UTC(2100, 0, 1);
/** A calendar quarter in the program's time zone, `YYYY-Qn`: what a target is set for. */
export const QUARTER_PATTERN = /^(\d{4})-Q([1-4])$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_PATTERN = /^\+?[0-9 ()./-]{5,24}$/;

// Validation runs for every record read (a partner document holds tens of thousands): asking Intl
// anew each time cost most of a deal's validation, so the answers are remembered. They are pure.
const knownZones = new Map<string, boolean>();
let currencies: Set<string> | undefined;

export function isTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = zone.length > 0;
    } catch {
      known = false;
    }
    // Bounded: bad input (a CSV column of junk) must not grow it without end.
    if (knownZones.size < 1000) knownZones.set(zone, known);
  }
  return known;
}

export function isCurrency(code: string): boolean {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(code) && currencies.has(code);
}

/** How one field is stored, checked and written to files. */
export type FieldKind =
  | 'id'
  | 'text'
  | 'email'
  | 'phone'
  | 'instant'
  | 'money'
  | 'percent'
  | 'currency'
  | 'timeZone'
  | 'enum'
  | 'stageProbabilities'
  | 'stageLog';

export interface FieldSpec {
  kind: FieldKind;
  /** What a person calls it, used in every message about it. */
  label: string;
  optional?: boolean;
  values?: readonly string[];
  /** For text: the longest value accepted. */
  maxLength?: number;
}

const id = (label: string, optional = false): FieldSpec => ({ kind: 'id', label, optional });
const text = (label: string, maxLength: number, optional = false): FieldSpec => ({
  kind: 'text',
  label,
  maxLength,
  optional,
});
const instant = (label: string, optional = false): FieldSpec => ({ kind: 'instant', label, optional });
const oneOf = (label: string, values: readonly string[], optional = false): FieldSpec => ({
  kind: 'enum',
  label,
  values,
  optional,
});

export const PROGRAM_FIELDS = {
  id: id('Program id'),
  name: text('Program name', 120),
  currency: { kind: 'currency', label: 'Currency' },
  timeZone: { kind: 'timeZone', label: 'Time zone' },
  stageProbabilities: { kind: 'stageProbabilities', label: 'Stage probabilities' },
} as const satisfies Record<string, FieldSpec>;

export const PARTNER_FIELDS = {
  id: id('Partner id'),
  programId: id('Program id'),
  name: text('Partner name', 120),
  createdAt: instant('Created'),
  deletedAt: instant('Deleted', true),
} as const satisfies Record<string, FieldSpec>;

export const REP_FIELDS = {
  id: id('Rep id'),
  partnerId: id('Partner id'),
  name: text('Rep name', 120),
  role: oneOf('Role', ROLES),
  createdAt: instant('Created'),
  deletedAt: instant('Deleted', true),
} as const satisfies Record<string, FieldSpec>;

export const LEAD_FIELDS = {
  id: id('Lead id'),
  partnerId: id('Partner id'),
  repId: id('Rep id'),
  createdAt: instant('Created'),
  channel: oneOf('Channel', CHANNELS),
  status: oneOf('Status', LEAD_STATUSES),
  company: text('Company', 200),
  contactName: text('Contact name', 200),
  phone: { kind: 'phone', label: 'Phone', optional: true },
  email: { kind: 'email', label: 'Email', optional: true },
  notes: text('Notes', 5000, true),
  qualifiedAt: instant('Qualified', true),
  deletedAt: instant('Deleted', true),
} as const satisfies Record<string, FieldSpec>;

export const DEAL_FIELDS = {
  id: id('Deal id'),
  partnerId: id('Partner id'),
  repId: id('Rep id'),
  leadId: id('Lead id', true),
  title: text('Title', 200),
  channel: oneOf('Channel', CHANNELS),
  amount: { kind: 'money', label: 'Amount' },
  currency: { kind: 'currency', label: 'Currency' },
  stage: oneOf('Stage', STAGES),
  probability: { kind: 'percent', label: 'Probability' },
  createdAt: instant('Created'),
  expectedCloseAt: instant('Expected close', true),
  closedAt: instant('Closed', true),
  lostReason: oneOf('Lost reason', LOST_REASONS, true),
  updatedAt: instant('Updated'),
  deletedAt: instant('Deleted', true),
  stageLog: { kind: 'stageLog', label: 'Stage history', optional: true },
} as const satisfies Record<string, FieldSpec>;

/** One entry of a deal's append-only stage history: who moved it to which stage, and when. */
export interface StageChange {
  stage: Stage;
  at: number;
  by: string;
}

export interface Program {
  id: string;
  name: string;
  currency: string;
  timeZone: string;
  stageProbabilities: Record<Stage, number>;
}

export interface Partner {
  id: string;
  programId: string;
  name: string;
  createdAt: number;
  deletedAt?: number;
}

export interface Rep {
  id: string;
  partnerId: string;
  name: string;
  role: Role;
  createdAt: number;
  deletedAt?: number;
}

export interface Lead {
  id: string;
  partnerId: string;
  repId: string;
  createdAt: number;
  channel: Channel;
  status: LeadStatus;
  company: string;
  contactName: string;
  phone?: string;
  email?: string;
  notes?: string;
  qualifiedAt?: number;
  deletedAt?: number;
}

export interface Deal {
  id: string;
  partnerId: string;
  repId: string;
  leadId?: string;
  title: string;
  channel: Channel;
  /** Integer minor units (paise, cents); never negative. */
  amount: number;
  currency: string;
  stage: Stage;
  probability: number;
  createdAt: number;
  expectedCloseAt?: number;
  /** Set exactly when the stage is won or lost. */
  closedAt?: number;
  lostReason?: LostReason;
  updatedAt: number;
  deletedAt?: number;
  stageLog?: StageChange[];
}

/** A member of the vendor's staff: signs in to see the whole program. */
export interface StaffMember {
  id: string;
  name: string;
  role: 'vendor_manager';
  deletedAt?: number;
}

/** A partner's target for one quarter; money in minor units of the program currency. */
export interface Target {
  revenue: number;
  deals: number;
  setAt: number;
  /** The user id of whoever set it. */
  setBy: string;
}

/** A target with what it is for: the program document keeps it under `<partnerId>/<quarter>`. */
export interface TargetEntry extends Target {
  partnerId: string;
  /** `YYYY-Qn` (QUARTER_PATTERN), a calendar quarter in the program's time zone. */
  quarter: string;
}

/**
 * The program's directory: the program, its partners and its reps (deleted ones included, with
 * `deletedAt`). The program document holds it (and the vendor's staff beside it); a device that has
 * not synced that document yet starts from the one the sign-in gives.
 */
export interface ProgramDirectory {
  program: Program;
  partners: readonly Partner[];
  reps: readonly Rep[];
}

/** Whether a value is an instant as the program document keeps them: whole epoch milliseconds, 1970 to before 2100. */
export function isInstant(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < LATEST_INSTANT;
}

// ---------------------------------------------------------------------------------------------
// Problem codes: what is wrong, for people reading another language than the English messages.

/**
 * What a validation problem is about, independent of language: an interface looks up its own
 * sentence by code (with `params` and the field's label), while `message` stays the English one
 * that the CSV importer and the CLI print.
 */
export type ProblemCode =
  | 'required'
  | 'notText'
  | 'tooLong'
  | 'idFormat'
  | 'notEmail'
  | 'notPhone'
  | 'notInstant'
  | 'tooEarly'
  | 'tooLate'
  | 'notNumber'
  | 'notWholeMinor'
  | 'negative'
  | 'tooLarge'
  | 'notWholePercent'
  | 'percentRange'
  | 'notCurrency'
  | 'notTimeZone'
  | 'notOneOf'
  | 'everyStage'
  | 'notStageLog'
  | 'closedAtIffClosed'
  | 'closedBeforeCreated'
  | 'lostReasonOnlyLost'
  // Made by forms, for text that cannot even be read as the domain value (see deals/deal.service.ts).
  | 'notAmount'
  | 'tooManyDecimals'
  | 'noMinorUnit'
  | 'amountTooLarge'
  | 'notDate'
  | 'inFuture'
  | 'startedAfterClose'
  // Made by the store for a command the record's state refuses (a lead converts once).
  | 'leadConverted'
  // A check without a code of its own (e.g. an entry of a stage history): only its message says more.
  | 'invalid';

/** Values a problem's sentence names besides the field, e.g. `{ max: 200 }` or `{ values: 'paid, earned' }`. */
export type ProblemParams = Record<string, string | number>;

export interface ProblemKind {
  code: ProblemCode;
  params?: ProblemParams;
}

/** The code of every English message a check below was given: the message is what valibot reports. */
const KINDS = new Map<string, ProblemKind>();

/** The English message of one check, remembered with its code and params (see `problemKindOf`). */
function say(code: ProblemCode, message: string, params?: ProblemParams): string {
  const known = KINDS.get(message);
  if (known && (known.code !== code || JSON.stringify(known.params) !== JSON.stringify(params))) {
    throw new Error(`One message, two problem codes: "${message}" is ${known.code} and ${code}.`);
  }
  KINDS.set(message, params ? { code, params } : { code });
  return message;
}

/** The code (and params) of a message given to a check of these schemas; undefined for any other message. */
export function problemKindOf(message: string): ProblemKind | undefined {
  return KINDS.get(message);
}

// ---------------------------------------------------------------------------------------------
// Field specs → valibot schemas. Every message names the field and says what is accepted.

const stageChangeSchema = v.object({
  stage: v.picklist(STAGES),
  at: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(LATEST_INSTANT)),
  by: v.pipe(v.string(), v.regex(ID_PATTERN)),
});

function fieldSchema(spec: FieldSpec): v.GenericSchema {
  const { label } = spec;
  switch (spec.kind) {
    case 'id':
      return v.pipe(
        v.string(say('required', `${label} is required.`)),
        v.regex(
          ID_PATTERN,
          say(
            'idFormat',
            `${label} must be 1–64 letters, digits, '-', '_', '.' or ':' and start with a letter or digit.`,
          ),
        ),
      );
    case 'text': {
      const max = spec.maxLength ?? 1000;
      return v.pipe(
        v.string(say('notText', `${label} must be text.`)),
        v.trim(),
        v.nonEmpty(say('required', `${label} is required.`)),
        v.maxLength(max, say('tooLong', `${label} is longer than ${spec.maxLength} characters.`, { max })),
      );
    }
    case 'email':
      return v.pipe(
        v.string(say('notText', `${label} must be text.`)),
        v.trim(),
        v.regex(EMAIL_PATTERN, say('notEmail', `${label} is not an email address.`)),
      );
    case 'phone':
      return v.pipe(
        v.string(say('notText', `${label} must be text.`)),
        v.trim(),
        v.regex(PHONE_PATTERN, say('notPhone', `${label} is not a phone number.`)),
      );
    case 'instant':
      return v.pipe(
        v.number(say('notInstant', `${label} must be a date and time.`)),
        v.integer(say('notInstant', `${label} must be a whole number of milliseconds.`)),
        v.minValue(0, say('tooEarly', `${label} is before 1970.`, { year: 1970 })),
        v.maxValue(LATEST_INSTANT, say('tooLate', `${label} is after 2100.`, { year: 2100 })),
      );
    case 'money':
      return v.pipe(
        v.number(say('notNumber', `${label} must be a number.`)),
        v.integer(say('notWholeMinor', `${label} must be a whole number of minor units (paise, cents).`)),
        v.minValue(0, say('negative', `${label} cannot be negative.`)),
        v.maxValue(Number.MAX_SAFE_INTEGER, say('tooLarge', `${label} is too large.`)),
      );
    case 'percent':
      return v.pipe(
        v.number(say('notNumber', `${label} must be a number.`)),
        v.integer(say('notWholePercent', `${label} must be a whole percentage.`)),
        v.minValue(0, say('percentRange', `${label} must be between 0 and 100.`)),
        v.maxValue(100, say('percentRange', `${label} must be between 0 and 100.`)),
      );
    case 'currency':
      return v.pipe(
        v.string(say('required', `${label} is required.`)),
        v.check(isCurrency, say('notCurrency', `${label} must be an ISO 4217 code such as INR or USD.`)),
      );
    case 'timeZone':
      return v.pipe(
        v.string(say('required', `${label} is required.`)),
        v.check(isTimeZone, say('notTimeZone', `${label} must be an IANA time zone such as Asia/Kolkata.`)),
      );
    case 'enum': {
      const values = (spec.values ?? []).join(', ');
      return v.picklist(
        spec.values ?? [],
        say('notOneOf', `${label} must be one of: ${values}.`, { values }),
      );
    }
    case 'stageProbabilities':
      // The problem's field is `stageProbabilities.<stage>`; params name the stage too.
      return v.object(
        Object.fromEntries(
          STAGES.map((stage) => [
            stage,
            v.pipe(
              v.number(say('notNumber', `The probability of ${stage} must be a number.`, { stage })),
              v.integer(
                say('notWholePercent', `The probability of ${stage} must be a whole percentage.`, { stage }),
              ),
              v.minValue(
                0,
                say('percentRange', `The probability of ${stage} must be between 0 and 100.`, { stage }),
              ),
              v.maxValue(
                100,
                say('percentRange', `The probability of ${stage} must be between 0 and 100.`, { stage }),
              ),
            ),
          ]),
        ),
        say('everyStage', `${label} must give a percentage for every stage.`),
      );
    case 'stageLog':
      return v.array(stageChangeSchema, say('notStageLog', `${label} must be a list of stage changes.`));
  }
}

function objectSchema(fields: Record<string, FieldSpec>): v.GenericSchema<unknown, Record<string, unknown>> {
  return v.object(
    Object.fromEntries(
      Object.entries(fields).map(([name, spec]) => {
        const schema = fieldSchema(spec);
        return [name, spec.optional ? v.optional(schema) : schema];
      }),
    ),
  );
}

/**
 * Rules that tie fields of one record together. Each is checked only when the fields it reads are
 * valid on their own, so one mistake gives one message.
 */
export interface Invariant {
  field: string;
  reads: readonly string[];
  holds: (record: Record<string, unknown>) => boolean;
  /** The English sentence. */
  message: string;
  code: ProblemCode;
}

const isClosed = (stage: unknown) => stage === 'won' || stage === 'lost';

export const INVARIANTS: Partial<Record<RecordKind, readonly Invariant[]>> = {
  deal: [
    {
      field: 'closedAt',
      reads: ['stage', 'closedAt'],
      holds: (deal) => isClosed(deal['stage']) === (deal['closedAt'] !== undefined),
      message: 'Closed date is set exactly when the deal is won or lost.',
      code: 'closedAtIffClosed',
    },
    {
      // A deal closed before it began would count a negative sales cycle into every figure.
      field: 'closedAt',
      reads: ['createdAt', 'closedAt'],
      holds: (deal) =>
        deal['closedAt'] === undefined || (deal['closedAt'] as number) >= (deal['createdAt'] as number),
      message: 'Closed date cannot be before the deal was created.',
      code: 'closedBeforeCreated',
    },
    {
      field: 'lostReason',
      reads: ['stage', 'lostReason'],
      holds: (deal) => deal['lostReason'] === undefined || deal['stage'] === 'lost',
      message: 'Lost reason is only given for a lost deal.',
      code: 'lostReasonOnlyLost',
    },
  ],
};

export const schemas = {
  program: objectSchema(PROGRAM_FIELDS),
  partner: objectSchema(PARTNER_FIELDS),
  rep: objectSchema(REP_FIELDS),
  lead: objectSchema(LEAD_FIELDS),
  deal: objectSchema(DEAL_FIELDS),
};

export type RecordKind = 'program' | 'partner' | 'rep' | 'lead' | 'deal';

export interface RecordTypes {
  program: Program;
  partner: Partner;
  rep: Rep;
  lead: Lead;
  deal: Deal;
}

export const FIELDS = {
  program: PROGRAM_FIELDS,
  partner: PARTNER_FIELDS,
  rep: REP_FIELDS,
  lead: LEAD_FIELDS,
  deal: DEAL_FIELDS,
} as const satisfies Record<RecordKind, Record<string, FieldSpec>>;
