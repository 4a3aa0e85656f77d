/** The cluster tests use the shared literal upstream outputs (no network or storage stack needed). */
export { FAKE_NETWORK, FAKE_STORAGE } from '../helpers/fake-outputs';
