export { obtain, settle } from './obtain.js';
export { ask, refusalOf } from './ask.js';
export { untilDecided, watch, type Watch } from './watch.js';
export * from './types.js';
