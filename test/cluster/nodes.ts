// Real gateway node processes for cluster tests (shared with the benchmarks, which import nothing from test/).
export { login, startNode, stopNode, type Node } from '../../bench/lib/cluster.js';
