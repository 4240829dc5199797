import { useEffect, useRef, useState } from 'preact/hooks';
import { Visits, type Note } from '../api';
import { errorText } from '../lib/format';
import { ErrorBanner } from './ErrorBanner';

/** How long after the last keystroke the note saves itself. */
export const AUTOSAVE_MS = 1500;

type Status = 'new' | 'dirty' | 'saving' | 'saved' | 'error';

const statusText: Record<Status, string> = {
  new: 'Saved as you type',
  dirty: 'Unsaved changes',
  saving: 'Saving…',
  saved: 'Saved on this device',
  error: 'Not saved',
};

/**
 * The signed-in caregiver's visit note. It saves 1.5 s after typing stops, on Save, and when
 * the screen closes. A new note is saved with id '' and keeps the id Go returns; saves never
 * overlap, so a new note is created once.
 */
export function NoteEditor({ visit, note, onSaved, onOpenInbox }: {
  visit: string;
  note: Note;
  onSaved?: () => void;
  onOpenInbox?: () => void;
}) {
  const [body, setBody] = useState(note.body ?? '');
  const [status, setStatus] = useState<Status>(note.id ? 'saved' : 'new');
  const [error, setError] = useState('');

  const text = useRef(note.body ?? ''); // what is typed now
  const saved = useRef(note.body ?? ''); // what Go holds
  const id = useRef(note.id ?? '');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const onSavedRef = useRef(onSaved);
  onSavedRef.current = onSaved;

  // A refresh brings the note as Go holds it: take it when nothing typed here is unsaved.
  useEffect(() => {
    if (!id.current && note.id) id.current = note.id;
    const next = note.body ?? '';
    if (!inFlight.current && text.current === saved.current && next !== saved.current) {
      text.current = next;
      saved.current = next;
      setBody(next);
      setStatus('saved');
    }
  }, [note.id, note.body]);

  const save = (): Promise<void> => {
    if (timer.current) {
      clearTimeout(timer.current);
      timer.current = null;
    }
    if (inFlight.current) {
      again.current = true; // save what is typed once the current save returns
      return inFlight.current;
    }
    const run = async () => {
      do {
        again.current = false;
        const body = text.current;
        if (body === saved.current && (id.current || body === '')) break;
        setStatus('saving');
        setError('');
        try {
          const got = await Visits.SaveNote(visit, id.current, body);
          if (got) id.current = got;
          saved.current = body;
        } catch (e) {
          setError(errorText(e));
          setStatus('error');
          return;
        }
      } while (again.current);
      setStatus(text.current === saved.current ? (id.current ? 'saved' : 'new') : 'dirty');
      onSavedRef.current?.();
    };
    const p = run().finally(() => {
      inFlight.current = null;
    });
    inFlight.current = p;
    return p;
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  // Leaving the screen saves what is still unsaved.
  useEffect(
    () => () => {
      if (text.current !== saved.current) void saveRef.current();
      else if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const onInput = (value: string) => {
    text.current = value;
    setBody(value);
    setStatus('dirty');
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      void saveRef.current();
    }, AUTOSAVE_MS);
  };

  return (
    <section class="card note" aria-labelledby="note-title">
      <div class="card-head">
        <h2 id="note-title">Visit note</h2>
        <span class={`note-status note-${status}`} data-testid="note-status" role="status">
          {statusText[status]}
        </span>
      </div>
      {note.conflicts > 0 && (
        <div class="banner banner-warn" role="status">
          <span class="banner-text">
            This note was also edited on another device; both versions wait in the conflict inbox.
          </span>
          {onOpenInbox && (
            <button type="button" class="link" onClick={onOpenInbox}>
              Open the inbox
            </button>
          )}
        </div>
      )}
      <textarea
        class="note-text"
        data-testid="note-editor"
        aria-label="Visit note"
        placeholder="History, findings, assessment, plan…"
        value={body}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <ErrorBanner message={error} />
      <div class="row-end">
        <button
          type="button"
          data-testid="note-save"
          disabled={status === 'saving'}
          onClick={() => void save()}
        >
          Save note
        </button>
      </div>
    </section>
  );
}
