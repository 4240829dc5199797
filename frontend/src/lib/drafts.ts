// Chat drafts per visit, kept in memory so that switching conversations (or leaving the
// visit screen) never loses what was typed. Cleared on sign-out.

const drafts = new Map<string, string>();

export function getDraft(visit: string): string {
  return drafts.get(visit) ?? '';
}

export function setDraft(visit: string, text: string): void {
  if (text) drafts.set(visit, text);
  else drafts.delete(visit);
}

export function clearDrafts(): void {
  drafts.clear();
}
