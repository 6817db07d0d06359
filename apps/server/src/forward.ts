/** Follower redirect/forwarding: lives in @raftkit/kv-http (see its forward.ts for the outcome rules). */
export { FORWARDED_BY_HEADER, Forwarder, notLeaderHandler, type ForwardOptions, type LeaderRoutingOptions } from '@raftkit/kv-http/internal';
