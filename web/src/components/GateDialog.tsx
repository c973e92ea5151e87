import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import {
  fieldProblems,
  fromDraft,
  requiredFields,
  toDraft,
  useFieldDefinitions,
  type Draft,
  type FieldDefinition,
  type FieldValues,
} from '../api/fields';
import { LabelledField } from './FieldControl';
import { ErrorState, Loading } from './States';

/** A move the server refused until fields are set: the ticket, where it was going, and what it asked for. */
export type GatedMove = {
  ticket: { id: string; number: number; fields?: unknown };
  /** The project's id or key, to read its field definitions. */
  project: string;
  to: { key: string; name: string };
  note?: string;
  /** The fields the server named (key → its problem). */
  missing: Map<string, string>;
};

/**
 * Moves a ticket; when the workflow's gate answers 409 FIELDS_REQUIRED the caller gets `asked` true and the
 * returned dialog asks for those fields in place, then retries the same transition with them in its body.
 */
export function useGatedMove(onMoved?: () => void) {
  const [gate, setGate] = useState<GatedMove | null>(null);
  /** Opens the dialog when `error` is a gate; returns whether it was one. */
  const ask = useCallback((error: unknown, move: Omit<GatedMove, 'missing'>): boolean => {
    const missing = requiredFields(error);
    if (!missing) return false;
    setGate({ ...move, missing });
    return true;
  }, []);
  const dialog = <GateDialog gate={gate} onClose={() => setGate(null)} onMoved={onMoved} />;
  return { ask, dialog };
}

function GateDialog({ gate, onClose, onMoved }: { gate: GatedMove | null; onClose(): void; onMoved?(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  /** Where focus was when the dialog opened, to go back there when it closes. */
  const opener = useRef<Element | null>(null);
  const queryClient = useQueryClient();
  const definitions = useFieldDefinitions(gate?.project, { enabled: gate !== null });
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [missing, setMissing] = useState<Map<string, string>>(new Map());
  const move = useMutation({
    mutationFn: (fields: FieldValues) =>
      api.POST('/api/tickets/{id}/transitions', {
        params: { path: { id: gate!.ticket.id } },
        body: { to: gate!.to.key, ...(gate!.note ? { note: gate!.note } : {}), fields },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries();
      onMoved?.();
      dialog.current?.close();
    },
    onError: (error) => {
      // Another gate (or a value refused): ask for what it names as well.
      const more = requiredFields(error) ?? fieldProblems(error);
      if (more.size > 0) setMissing((current) => new Map([...current, ...more]));
    },
  });
  const { reset } = move;

  useEffect(() => {
    if (!gate) return;
    reset();
    setMissing(gate.missing);
    opener.current = document.activeElement;
    if (!dialog.current?.open) dialog.current?.showModal();
  }, [gate, reset]);

  // Start each asked field from the ticket's value, else the field's default.
  const byKey = new Map((definitions.data ?? []).map((definition) => [definition.key, definition]));
  const asked = [...missing.keys()].map((key) => byKey.get(key)).filter((definition): definition is FieldDefinition => !!definition);
  const unknownKeys = definitions.isSuccess ? [...missing.keys()].filter((key) => !byKey.has(key)) : [];
  const current = (gate?.ticket.fields ?? {}) as FieldValues;
  const draftOf = (definition: FieldDefinition) =>
    drafts[definition.key] ?? toDraft(definition, current[definition.key] ?? definition.default ?? null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    move.mutate(Object.fromEntries(asked.map((definition) => [definition.key, fromDraft(definition, draftOf(definition))])));
  };
  const closed = () => {
    setDrafts({});
    onClose();
    // Back to where the move started; a board card that moved columns is a new element, found by its ticket.
    const back = opener.current;
    const ticketId = gate?.ticket.id;
    if (back instanceof HTMLElement && back.isConnected) back.focus();
    else if (ticketId) document.querySelector<HTMLElement>(`[data-ticket="${CSS.escape(ticketId)}"]`)?.focus();
  };
  const problems = move.isError ? fieldProblems(move.error) : new Map<string, string>();
  const otherError = move.isError && problems.size === 0 && !requiredFields(move.error);

  return (
    <dialog ref={dialog} aria-labelledby="gate-title" aria-describedby="gate-why" onClose={closed} className="gate-dialog">
      {gate && (
        <form onSubmit={submit} className="stack">
          <h2 id="gate-title">
            Move #{gate.ticket.number} to {gate.to.name}
          </h2>
          <p id="gate-why" className="muted">
            {asked.length === 1 ? 'This field must be set' : 'These fields must be set'} before the ticket can move.
          </p>
          {definitions.isPending ? (
            <Loading label="Loading the fields…" />
          ) : definitions.isError ? (
            <ErrorState error={definitions.error} retry={() => void definitions.refetch()} />
          ) : (
            asked.map((definition, index) => (
              <LabelledField
                key={definition.key}
                definition={definition}
                id={`gate-field-${definition.key}`}
                draft={draftOf(definition)}
                onChange={(draft) => setDrafts((all) => ({ ...all, [definition.key]: draft }))}
                problem={problems.get(definition.key) ?? (move.isError ? missing.get(definition.key) : undefined)}
                autoFocus={index === 0}
                required
              />
            ))
          )}
          {unknownKeys.length > 0 && (
            <p className="form-error" role="alert">
              The workflow also asks for {unknownKeys.join(', ')}, which you cannot edit here.
            </p>
          )}
          {otherError && <ErrorState error={move.error} />}
          <div className="actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={move.isPending || asked.length === 0}>
              {move.isPending ? 'Moving…' : `Save and move to ${gate.to.name}`}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
