/**
 * Invariants of one core, asserted after every input (TigerBeetle's `invariants()` after each
 * tick). A failure is a programmer error: the process must stop.
 */
import { assert } from '../common/index.js';
import type { Raft } from './raft.js';

/** Asserts the state invariants that must hold between inputs. Cheap: O(members). */
export function checkInvariants(raft: Raft): void {
  const { log } = raft;
  assert(log.applied <= log.applying, 'applied <= applying');
  assert(log.applying <= log.committed, 'applying <= committed');
  assert(log.committed <= log.lastIndex(), 'committed <= lastIndex');
  assert(log.firstIndex() - 1 <= log.lastIndex(), 'firstIndex - 1 <= lastIndex');
  assert(raft.term >= 0 && Number.isSafeInteger(raft.term), 'term is a safe integer');
  if (raft.role === 'leader') {
    assert(raft.leaderId === raft.id, 'a leader knows it leads');
    const self = raft.tracker.progress.get(raft.id);
    if (self !== undefined) assert(self.matchIndex === log.lastIndex(), 'leader matches itself');
    for (const progress of raft.tracker.progress.values()) progress.checkInvariants();
  } else {
    assert(raft.leaderId !== raft.id, 'only a leader names itself leader');
    assert(raft.leadershipTransfereeId === 0, 'only a leader transfers leadership');
  }
  if (raft.role === 'candidate') assert(raft.votedFor === raft.id, 'a candidate votes for itself');
}
