/** An aedes broker on a free loopback port for tests: the same embedded broker `vigil run` uses. */
export { startEmbeddedBroker as startAedes, type RunningBroker } from '../../sim/broker.ts';
