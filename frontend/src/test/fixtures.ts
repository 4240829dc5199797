// Builders of the data Go returns, with overrides.

import type {
  ChatMessage,
  Conversation,
  InboxView,
  NoteConflict,
  QueuePatient,
  QueueView,
  RegionQueue,
  RegionSettings,
  SessionState,
  SyncStatus,
  VisitView,
} from '../api';

export const NOW = new Date(2026, 10, 24, 14, 0, 0).getTime();

export function session(o: Partial<SessionState> = {}): SessionState {
  return {
    signedIn: true,
    locked: false,
    server: 'http://127.0.0.1:8686',
    clinic: 'demo',
    user: 'carol',
    name: 'Carol Reyes',
    role: 'provider',
    lockAfterSec: 300,
    problem: '',
    ...o,
  };
}

export function syncStatus(o: Partial<SyncStatus> = {}): SyncStatus {
  return { online: true, catchingUp: false, progress: 1, pending: 0, lastSync: 0, error: '', rejected: 0, conflicts: 0, ...o };
}

export function queuePatient(o: Partial<QueuePatient> = {}): QueuePatient {
  return {
    visit: 'v1',
    patient: 'p1',
    name: 'Ada Lovelace',
    birthDate: '1990-12-10',
    region: 'CA',
    reason: 'sore throat',
    since: NOW - 12 * 60_000,
    position: 1,
    estimateMs: 25 * 60_000,
    notice: '',
    unread: 0,
    ...o,
  };
}

export function regionQueue(o: Partial<RegionQueue> = {}): RegionQueue {
  return { code: 'CA', name: 'California', mode: 'open', open: true, licensed: 2, patients: [queuePatient()], ...o };
}

export function queueView(o: Partial<QueueView> = {}): QueueView {
  return { regions: [regionQueue()], mine: [], canClaim: true, claimBlocked: '', onShift: true, asOf: NOW, ...o };
}

export function message(o: Partial<ChatMessage> = {}): ChatMessage {
  return { id: 'm1', sender: 'p1', senderName: 'Ada Lovelace', senderRole: 'patient', body: 'Hello doctor', sentAt: NOW - 60_000, mine: false, ...o };
}

export function visitView(o: Partial<VisitView> = {}): VisitView {
  return {
    visit: {
      id: 'v1',
      status: 'in_visit',
      region: 'CA',
      reason: 'sore throat',
      provider: 'carol',
      providerName: 'Carol Chen',
      requestedAt: NOW - 30 * 60_000,
      startedAt: NOW - 5 * 60_000,
      endedAt: 0,
      endReason: '',
      notes: [],
      observations: [],
    },
    patient: {
      id: 'p1',
      givenName: 'Ada',
      familyName: 'Lovelace',
      birthDate: '1990-12-10',
      phone: '555-123-4567',
      email: '',
      region: 'CA',
    },
    chat: [message()],
    myNote: { id: '', author: '', authorName: '', body: '', updatedAt: 0, conflicts: 0 },
    kinds: [
      { name: 'heart_rate', unit: 'bpm', min: 20, max: 300 },
      { name: 'temperature', unit: '°C', min: 30, max: 45 },
    ],
    canEnd: true,
    canRelease: true,
    releaseBlock: '',
    ...o,
  };
}

export function conversation(o: Partial<Conversation> = {}): Conversation {
  return {
    visit: 'v1',
    patient: 'p1',
    name: 'Ada Lovelace',
    region: 'CA',
    status: 'waiting',
    last: 'Hello?',
    lastAt: NOW - 60_000,
    lastFrom: 'patient',
    unread: 0,
    ...o,
  };
}

export function region(o: Partial<RegionSettings> = {}): RegionSettings {
  return {
    code: 'CA',
    name: 'California',
    mode: 'open',
    busyLimit: 10,
    hours: 'mon-fri 08:00-18:00',
    timeZone: 'America/Los_Angeles',
    message: '',
    open: true,
    admission: '',
    waiting: 3,
    licensed: 2,
    updatedBy: 'alice',
    updatedByName: 'Alice Admin',
    updatedAt: NOW - 3_600_000,
    canEdit: true,
    ...o,
  };
}

export function conflict(o: Partial<NoteConflict> = {}): NoteConflict {
  return {
    note: 'n1',
    visit: 'v1',
    patient: 'p1',
    name: 'Ada Lovelace',
    current: { body: 'Throat red, no fever.', author: 'carol', authorName: 'Carol Chen', at: NOW - 120_000, version: 'a', here: false },
    other: { body: 'Throat red; temp 37.2.', author: 'carol', authorName: 'Carol Chen', at: NOW - 60_000, version: 'b', here: true },
    versions: 1,
    ...o,
  };
}

export function inbox(o: Partial<InboxView> = {}): InboxView {
  return { conflicts: [], refused: [], ...o };
}
