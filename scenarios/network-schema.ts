/**
 * The scenario's network: mobile operators, firmware variants, and faults on the timeline
 * (DESIGN.md "Faults (sim/network)", issue 4). Zod shapes only; scenarios/faults.ts resolves the
 * faults' times and targets against the run.
 */
import { z } from 'zod';
import { DEFAULT_OPERATOR } from '../protocol/provisioning.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';

export const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}` });
    return z.NEVER;
  }
  return ms;
});

/** A duration with a sign: "-1h", "+30m" (virtual ms, negative = behind). */
export const signedDuration = z.string().transform((s, ctx) => {
  const m = /^([+-])(.+)$/.exec(s.trim());
  const ms = m ? parseDuration(m[2] as string) : undefined;
  if (!m || ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a signed duration like "-1h" or "+30m"` });
    return z.NEVER;
  }
  return m[1] === '-' ? -ms : ms;
});

export const OFFSET_HINT = 'an ISO 8601 date-time with its offset ("2021-10-25T16:10:00+02:00") or "+" and a duration from the start ("+2h10m")';

/** A point on the timeline: an instant, or an offset from the scenario's start. Resolved in faults.ts. */
export const when = z.string().transform((s, ctx) => {
  if (s.startsWith('+')) {
    const ms = parseDuration(s.slice(1));
    if (ms !== undefined) return { offsetMs: ms };
  } else if (/[zZ]|[+-]\d\d:\d\d$/.test(s) && !Number.isNaN(Date.parse(s))) {
    return { at: Date.parse(s) };
  }
  ctx.addIssue({ code: 'custom', message: `expected ${OFFSET_HINT}` });
  return z.NEVER;
});
export type When = z.output<typeof when>;

const operatorId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an operator id: 1–64 letters, digits, "-" or "_"');

export const FIRMWARE_MODES = ['store-and-forward', 'broker-ack', 'fire-and-forget'] as const;
export type FirmwareMode = (typeof FIRMWARE_MODES)[number];
const firmwareMode = z.enum(FIRMWARE_MODES);

/**
 * Which firmware the devices run: one mode for all, or per device type.
 * - store-and-forward: a record leaves the outbox when the pipeline's application ack covers it;
 * - broker-ack: when the broker's PUBACK arrives (trusts the broker: what 2021's gateway faked);
 * - fire-and-forget: QoS 0, forgotten once written to the socket.
 */
export const Firmware = z.union([
  firmwareMode,
  z.strictObject({ default: firmwareMode.default('store-and-forward'), pse: firmwareMode.optional(), psem: firmwareMode.optional(), bar: firmwareMode.optional() }),
]).default('store-and-forward');

export const Network = z.strictObject({
  /**
   * Mobile operators and their share of the devices (summing to 1). DOMAIN.md: the French kit uses
   * a single operator that roams onto the best network.
   */
  operators: z.array(z.strictObject({ id: operatorId, share: z.number().gt(0).max(1) })).min(1)
    .refine((ops) => Math.abs(ops.reduce((s, o) => s + o.share, 0) - 1) < 1e-9, 'expected operator shares that sum to 1')
    .refine((ops) => new Set(ops.map((o) => o.id)).size === ops.length, 'expected each operator id once')
    .default([{ id: DEFAULT_OPERATOR, share: 1 }]),
  /** docs/RULES.md mass_communication_loss: the share of an operator's devices silent at once. */
  massCommunicationLoss: z.strictObject({ share: z.number().gt(0).max(1).default(0.1), minDevices: z.number().int().min(1).default(5) }).prefault({}),
  /** Route devices through the operator proxies even when no fault needs them (they always do when one does). */
  proxy: z.boolean().default(false),
}).prefault({});

/** Which devices a fault hits: every field narrows; an empty target is the whole fleet. */
export const Target = z.strictObject({
  operator: operatorId.optional(),
  deviceType: z.enum(['pse', 'psem', 'bar', 'bar_perpetrator', 'bar_victim']).optional(),
  devices: z.array(z.string().min(1)).min(1).optional(),
  /** A seeded share of what the other fields matched, e.g. 0.5 for "half the fleet". */
  fraction: z.number().gt(0).max(1).optional(),
}).default({});
export type Target = z.output<typeof Target>;

const common = {
  /** A name for reports; default `<kind>-<index>`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected lower-case letters, digits, "-" and "."').optional(),
  from: when,
  until: when,
  target: Target,
  /**
   * Devices come back progressively: each healed at a seeded moment in [until, until + recovery]
   * (DOMAIN.md: fixed at 18:25, devices back progressively until 21:50).
   */
  recovery: duration.optional(),
};

/**
 * Process faults (DESIGN.md "broker / pipeline kill and restart"): at `from` the process is killed,
 * at `until` started again on the same port (the pipeline on the same data); `alarm-id-overflow`
 * puts the reference pipeline in the BI Inc. 2010 failure (DOMAIN.md: alarm ids hit their limit,
 * notifications stopped while devices kept recording) from `from` to `until`; `slow-consumer` makes
 * the reference pipeline a slow subscriber (protocol/pipeline-admin.ts), so the broker's queue for it
 * overflows (mosquitto drops past `max_queued_messages`). They hit the whole
 * system, not chosen devices: a target is rejected. scenarios/runner/process-faults.ts drives them.
 */
export const PROCESS_FAULT_KINDS = ['pipeline-restart', 'broker-restart', 'alarm-id-overflow', 'slow-consumer'] as const;
export type ProcessFaultKind = (typeof PROCESS_FAULT_KINDS)[number];
const processFault = <K extends ProcessFaultKind>(kind: K) => z.strictObject({ kind: z.literal(kind), name: common.name, from: when, until: when, target: Target })
  .refine((f) => Object.keys(f.target).length === 0, { path: ['target'], message: `a ${kind} fault hits the whole system, not chosen devices: remove target` });

/** The fault kinds: the operator proxies inject the network ones (sim/network/proxy.ts). */
export const Fault = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('black-hole'), ...common }),
  z.strictObject({ kind: z.literal('ack-then-lose'), ...common }),
  z.strictObject({ kind: z.literal('refuse'), ...common }),
  z.strictObject({ kind: z.literal('partition'), ...common }),
  z.strictObject({ kind: z.literal('reset'), ...common }),
  z.strictObject({ kind: z.literal('latency'), ...common, delay: duration, jitter: duration.optional() }),
  z.strictObject({ kind: z.literal('loss'), ...common, rate: z.number().gt(0).max(1), retransmit: duration.prefault('3s') }),
  z.strictObject({ kind: z.literal('bandwidth'), ...common, bytesPerSecond: z.number().int().min(100) }),
  z.strictObject({ kind: z.literal('nat-idle'), ...common, idle: duration }),
  z.strictObject({ kind: z.literal('mtu'), ...common, maxBytes: z.number().int().min(20).max(65_535) }),
  /**
   * The broker's address changes (DNS/IP; DESIGN.md "endpoint move"). At `from` the OLD address
   * stops serving the targeted devices — their live sessions are reset, their new connections
   * refused — and a NEW address (another listener of the same operator proxy path, in front of the
   * same broker) serves them. Each targeted device learns the new address at a seeded moment in
   * [from, from + dnsTtl] (its cached DNS entry expires, virtual time) and dials it from its next
   * reconnect; until then it keeps dialing the old address and is refused. Devices not targeted
   * keep using the old address, untouched. At `until` (per device during `recovery`) the old
   * address serves the targeted devices again (the migration window is over, or rolled back); the
   * devices that moved stay on the new address, and a device whose DNS moment falls after its heal
   * never moves. Other faults on a device act on both of its addresses.
   */
  z.strictObject({ kind: z.literal('endpoint-move'), ...common, dnsTtl: duration.prefault('5m') }),
  /**
   * The targeted devices' clocks jump by `offset` ("-1h", "+30m") at `from` and are corrected at
   * their heal: every record they make meanwhile is stamped true time + offset (DESIGN.md "clock
   * skew"; scenarios/runner/device-faults.ts). Not a network effect: the devices' path is untouched.
   */
  z.strictObject({ kind: z.literal('clock-skew'), ...common, offset: signedDuration }),
  processFault('pipeline-restart'),
  processFault('broker-restart'),
  processFault('alarm-id-overflow'),
  processFault('slow-consumer'),
]);
export type Fault = z.output<typeof Fault>;
export type FaultKind = Fault['kind'];
export const FAULT_KINDS = Fault.options.map((o) => o.shape.kind.value) as FaultKind[];
