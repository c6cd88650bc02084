export { startFakeAgent, type FakeAgent, type FakeAgentFaults, type FakeAgentOptions } from './server.js';
export { FakeGuest, FAKE_AGENT_VERSION, FAKE_COMMANDS } from './guest.js';
