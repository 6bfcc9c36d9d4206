import { expect, it } from 'vitest';
import { DEVICE_EVENTS } from '../../protocol/alarms.ts';
import { eventAlarm } from './event-alarms.ts';

it('each alarm event raises its kind; every other event raises nothing', () => {
  const raised = Object.fromEntries(DEVICE_EVENTS.map((e) => [e, eventAlarm(e) ?? null]));
  expect(raised).toEqual({
    strap_tamper: 'strap_tamper',
    gps_lost: 'gps_loss',
    gps_restored: null,
    charger_connected: null,
    charger_disconnected: null,
    rf_absent: null, // the curfew rule's input, not an alarm on its own
    rf_present: null,
    unit_tamper: 'home_unit_tamper',
    unit_moved: 'home_unit_moved',
    mains_lost: 'mains_power_loss',
    mains_restored: null,
    curfew_start: null,
    sos: 'victim_sos',
  });
  expect(eventAlarm('tamper')).toBeUndefined(); // unknown names are stored, never alarms
  expect(eventAlarm('STRAP_TAMPER')).toBeUndefined();
});
